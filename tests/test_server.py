"""The app as a server: real `streamlit run app.py` processes driven at the protocol level
(tests/stclient.py), no browser. Assertions are on counts and contents, never on time."""
from __future__ import annotations

from tests.stclient import ROOT, at_once, serve

ARTIFACTS = ROOT / "tests" / "artifacts"

DEEP_LINKS = [("playground", "expr=x**2%2By**3&v.x=2&v.y=3"), ("walkthrough", ""), ("network", ""),
              ("lessons", ""), ("", ""), ("playground", ""), ("walkthrough", "net=mlp"), ("playground", "ex=2")]


def test_cold_start_concurrent_first_visitors_all_get_the_app():
    # A freshly started server, eight first visitors at once (one deep link each, /playground
    # twice): every one gets the app's navigation and a page without an error. Before warm_up()
    # most of them raced on plotly's lazy `import pandas` and saw "This app has encountered an error".
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(ARTIFACTS / "server-cold-start.log") as (url, _proc):
        results = at_once(url, DEEP_LINKS)
    for (page, query), r in zip(DEEP_LINKS, results):
        assert r.finished, f"/{page}?{query}: the run did not finish"
        assert not r.exceptions, f"/{page}?{query}: {r.exceptions}"
        assert r.navigation and not r.page_not_found, f"/{page}?{query}: no app navigation"
        assert len(r.elements) > 3, f"/{page}?{query}: a bare page ({r.elements})"


def test_cold_start_warms_every_module_a_page_imports():
    # warm_up() must cover every vizgrad module a page file imports at its top level
    import ast
    import importlib
    import types

    from pages._common import WARM_MODULES
    for path in (ROOT / "pages").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vizgrad"):
                mod = importlib.import_module(node.module)
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names
                                         if isinstance(getattr(mod, a.name, None), types.ModuleType)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("vizgrad")]
            else:
                continue
            for n in names:
                assert n in WARM_MODULES, f"{path.name} imports {n}, which warm_up() does not"
