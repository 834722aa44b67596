"""Clicks on a drawn graph: which node or edge a plotly click or a Streamlit selection points at.

    ev = st.plotly_chart(fig, on_select="rerun", selection_mode="points")
    node = vp.node_at(ev)                    # e.g. "t3", or None
    edge = vp.edge_at(fig, ev)               # ("t0", "op0"), checked against the figure's graph
    target = vp.target_at(fig, ev)           # the first of either: "t3", ("t0", "op0") or None

Every node point of a figure carries customdata = the graph node id, every edge point customdata =
[source id, target id] (the invisible hover targets drawn last by vizgrad.plot.figure).
"""
from __future__ import annotations

import networkx as nx

__all__ = ["node_at", "edge_at", "target_at"]


def _is_event(obj) -> bool:
    return isinstance(obj, dict) or hasattr(obj, "selection") or isinstance(obj, list)

def _split_args(args):
    """(event, graph or None) from (event,), (fig_or_graph, event) or (event, fig_or_graph)."""
    if len(args) == 1:
        return args[0], None
    a, b = args
    return (b, a) if _is_event(b) and not _is_event(a) else (a, b)

def _points(event) -> list:
    """The points of a plotly click event ({"points": [...]}), a Streamlit selection state
    ({"selection": {"points": [...]}}, also by attribute) or a bare list of points."""
    if event is None:
        return []
    if isinstance(event, list):
        return event
    sel = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    if sel is not None:
        pts = sel.get("points") if isinstance(sel, dict) else getattr(sel, "points", None)
        return list(pts or [])
    if isinstance(event, dict):
        if "points" in event:
            return list(event["points"] or [])
        if "customdata" in event:
            return [event]
    return []

def _customdata(p):
    cd = p.get("customdata") if isinstance(p, dict) else getattr(p, "customdata", None)
    if isinstance(cd, (list, tuple)) and len(cd) == 1:
        cd = cd[0]
    return cd

def node_at(*args):
    """The graph node id that a plotly click event or a Streamlit selection points at, or None
    (e.g. when it is on an edge). node_at(event), or node_at(fig_or_graph, event) to also check
    the id is in that graph."""
    event, graph = _split_args(args)
    g = _graph_of(graph)
    for p in _points(event):
        cd = _customdata(p)
        if isinstance(cd, str) and (g is None or cd in g):
            return cd
    return None

def edge_at(*args):
    """The (source, target) edge that a plotly click / Streamlit selection points at, or None."""
    event, graph = _split_args(args)
    g = _graph_of(graph)
    for p in _points(event):
        cd = _customdata(p)
        if isinstance(cd, (list, tuple)) and len(cd) == 2 and (g is None or g.has_edge(cd[0], cd[1])):
            return (str(cd[0]), str(cd[1]))
    return None

def target_at(*args):
    """What a click points at, node or edge, whichever its first point is: a node id (str), a
    (source, target) pair, or None (no point, or ids that are not in the given graph)."""
    event, graph = _split_args(args)
    g = _graph_of(graph)
    for p in _points(event):
        cd = _customdata(p)
        if isinstance(cd, str) and (g is None or cd in g):
            return cd
        if isinstance(cd, (list, tuple)) and len(cd) == 2 and (g is None or g.has_edge(cd[0], cd[1])):
            return (str(cd[0]), str(cd[1]))
    return None

def _graph_of(obj):
    if obj is None:
        return None
    if isinstance(obj, nx.DiGraph):
        return obj
    meta = getattr(obj, "_vizgrad", None)
    return meta["graph"] if meta else None
