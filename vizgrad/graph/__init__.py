"""vizgrad.graph: the recorded autograd graph as a networkx graph, what vizgrad.plot draws and the app inspects.

    import vizgrad.graph as vg
    loss.backward()
    g = vg.trace(loss)                 # nx.DiGraph: tensor -> op -> tensor ("t0", "op0" ...)
    h = vg.collapse(g, depth=1)        # module calls as one node each; vg.expand(h) undoes it
    vg.to_dot(g), vg.to_json(g)        # Graphviz text, node-link JSON (vg.from_json reads it back)

The rooms:
    trace.py     trace(): the graph behind some tensors (node and edge attributes are listed there)
    collapse.py  modules(), collapse(), expand(): vizgrad.nn module calls as single nodes
    lod.py       default_view(), expand_group(), collapse_group(): a big graph as labelled group boxes
                 (modules, repeated sub-expressions "×N", one-op chains), opened one level at a time
    export.py    to_dot(), to_json(), from_json()
    format.py    format_number(), format_value(), grad_norm(), tex_name(): how numbers and names are written
    view.py      the engine as the graph reads it (values, grads, an op's inputs and edge gradients,
                 op attributes), on the engine's public API only
    steps.py     the chain-rule steps of a traced graph, one per op forward and backward (the
                 Walkthrough's model): `from vizgrad.graph.steps import steps`

The functions trace and collapse share their names with their modules: `vizgrad.graph.trace` is the
function; import a module's other names with `from vizgrad.graph.trace import ...`.
"""
from vizgrad.graph.collapse import collapse, collapse_modules, expand, modules
from vizgrad.graph.export import from_json, to_dot, to_json
from vizgrad.graph.lod import collapse_group, default_view, expand_group
from vizgrad.graph.format import format_number, format_value, grad_norm, tex_name
from vizgrad.graph.trace import op_nodes, tensor_nodes, trace

__all__ = ["trace", "modules", "collapse", "collapse_modules", "expand", "to_dot", "to_json", "from_json",
           "format_value", "format_number", "grad_norm", "tex_name", "tensor_nodes", "op_nodes",
           "default_view", "expand_group", "collapse_group"]
