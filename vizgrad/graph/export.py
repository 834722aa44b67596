"""A traced graph written out: Graphviz DOT, and node-link JSON that reads back into the same graph.

    from vizgrad.graph import from_json, to_dot, to_json
    open("g.dot", "w").write(to_dot(g))      # dot -Tsvg g.dot > g.svg
    h = from_json(to_json(g))                # same nodes, edges and attributes (numpy arrays included)

The JSON is networkx's node-link layout (directed, graph, nodes, links); arrays are stored as
{"__ndarray__": nested list, "dtype", "shape"}; a collapsed graph carries its full graph. The
engine nodes a graph may hold for the walkthrough (g.graph["fns"]) are never written.
"""
from __future__ import annotations

import json

import networkx as nx
import numpy as np

from vizgrad.graph.format import format_value

__all__ = ["to_dot", "to_json", "from_json"]


def _dot_escape(s: str) -> str:
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(g, values: bool = True, grads: bool = True) -> str:
    """Graphviz DOT text (left to right): tensors as boxes (label, value, grad), ops as circles with
    their symbol, modules as 3-D boxes; edges labelled with the gradient flowing back along them."""
    lines = ["digraph vizgrad {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for n, d in g.nodes(data=True):
        k = d["kind"]
        if k == "tensor":
            parts = [d["label"]]
            if values:
                parts.append(format_value(d["value"], sep=" "))
            if grads and d["grad"] is not None:
                parts.append("grad " + format_value(d["grad"], sep=" "))
            attrs = f'shape=box, style="rounded", label="{_dot_escape(chr(10).join(parts))}"'
        elif k == "module":
            attrs = f'shape=box3d, label="{_dot_escape(d["label"] + chr(10) + d["symbol"])}"'
        else:
            attrs = f'shape=circle, label="{_dot_escape(d["symbol"])}", tooltip="{_dot_escape(d["op"])}"'
        lines.append(f'  "{_dot_escape(n)}" [{attrs}];')
    for u, v, e in g.edges(data=True):
        attrs = []
        if grads and e.get("grad") is not None:
            attrs.append(f'label="{_dot_escape(format_value(e["grad"], sep=" "))}"')
        lines.append(f'  "{_dot_escape(u)}" -> "{_dot_escape(v)}"' + (f' [{", ".join(attrs)}]' if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


_TUPLE_KEYS = {"shape", "latex", "scope", "indices", "grads", "collapsed"}
_ARRAY_KEYS = {"value", "grad"}


def _enc(v):
    if isinstance(v, np.ndarray) or isinstance(v, np.generic):
        a = np.asarray(v)
        return {"__ndarray__": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {k: _enc(x) for k, x in v.items()}
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def _dec(v):
    if isinstance(v, dict):
        if "__ndarray__" in v:
            return np.array(v["__ndarray__"], dtype=v["dtype"]).reshape(v["shape"])
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


def _attrs_dec(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        v = _dec(v)
        if k in _TUPLE_KEYS and isinstance(v, list):
            v = tuple(tuple(x) if k == "shape" and isinstance(x, list) else x for x in v)
        out[k] = v
    return out


def _node_link(g) -> dict:
    graph = {k: v for k, v in g.graph.items() if k not in ("full", "fns")}
    data = {"directed": True, "multigraph": False, "graph": _enc(graph),
            "nodes": [{"id": n, **_enc(d)} for n, d in g.nodes(data=True)],
            "links": [{"source": u, "target": v, **_enc(e)} for u, v, e in g.edges(data=True)]}
    if g.graph.get("full") is not None:
        data["full"] = _node_link(g.graph["full"])
    return data


def to_json(g, indent: int | None = None) -> str:
    """Node-link JSON (networkx's layout: directed, graph, nodes, links); numpy arrays are stored
    as {"__ndarray__": nested list, "dtype", "shape"}. A collapsed graph carries its full graph."""
    return json.dumps(_node_link(g), indent=indent, ensure_ascii=False)


def _from_node_link(data: dict) -> nx.DiGraph:
    g = nx.DiGraph()
    g.graph.update(_attrs_dec(data.get("graph", {})))
    for nd in data["nodes"]:
        nd = dict(nd)
        n = nd.pop("id")
        g.add_node(n, **_attrs_dec(nd))
    for ed in data["links"]:
        ed = dict(ed)
        u, v = ed.pop("source"), ed.pop("target")
        g.add_edge(u, v, **_attrs_dec(ed))
    g.graph["full"] = _from_node_link(data["full"]) if data.get("full") else None
    return g


def from_json(s) -> nx.DiGraph:
    """The graph back from to_json output (a str, bytes or already-parsed dict)."""
    data = json.loads(s) if isinstance(s, (str, bytes)) else s
    return _from_node_link(data)
