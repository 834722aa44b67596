"""The pages' models: one module per page of the app, holding its state, its computation and what
it shows, with no streamlit (so each is tested as plain Python, and the page file only lays out UI).

    pages/expression.py  <->  vizgrad/app/expression.py    Expression Playground (URL /playground)
    pages/walkthrough.py <->  vizgrad/app/walkthrough.py   Backprop Walkthrough
    pages/lessons.py     <->  vizgrad/app/lessons.py       Lessons (the content and how it runs)

The home page has no model (it only draws one example graph and links the registry's pages).
Adding a page: its file in pages/, its model here, and one row of pages/_common.PAGES.
Models import the engine, vizgrad.graph, vizgrad.expr (and vizgrad.plot where they draw); never pages/.
"""
