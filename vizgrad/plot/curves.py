"""Curves over training steps, drawn with plotly (the graph's figures are figure.py's).

    fig = replay_curve(steps, loss, title="loss per step", y_title="loss")   # a '▶ train' button replays it

The Network Playground's loss, accuracy and gradient-norm curves are drawn from its History by
vizgrad.net.curves, in the playground's own style.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = ["replay_curve"]


def replay_curve(steps, values, *, title: str = "loss per step", y_title: str = "loss", name: str = "loss",
                 color: str = "#c2185b", height: int = 280, max_frames: int = 60) -> go.Figure:
    """A line of `values` at `steps`, with a '▶ train' button that replays the run: the curve grows
    step by step in at most `max_frames` frames, on fixed axes (so it does not jump as it grows)."""
    steps, values = np.asarray(steps), np.asarray(values, dtype=float)
    fig = go.Figure(go.Scatter(x=steps, y=values, mode="lines", line=dict(color=color, width=2), name=name,
                               hovertemplate=f"step %{{x}}<br>{name} %{{y:.4f}}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=36, b=10), title=dict(text=title, x=0.01, font=dict(size=14)),
                      xaxis_title="step", yaxis_title=y_title, plot_bgcolor="#ffffff", paper_bgcolor="#ffffff")
    fig.update_xaxes(showgrid=True, gridcolor="#eaeef2", range=[0, len(steps) + 1])
    fig.update_yaxes(showgrid=True, gridcolor="#eaeef2",
                     range=[0, float(np.nanmax(values)) * 1.05 if len(values) else 1])
    n_frames = min(max_frames, len(steps))
    cuts = np.unique(np.linspace(1, len(steps), n_frames).astype(int)) if len(steps) else []
    fig.frames = [go.Frame(data=[go.Scatter(x=steps[:k], y=values[:k])], name=str(k)) for k in cuts]
    fig.update_layout(updatemenus=[dict(
        type="buttons", showactive=False, x=0.5, xanchor="center", y=1.2, yanchor="top",  # clear of the modebar
        buttons=[dict(label="▶ train", method="animate",
                      args=[None, dict(frame=dict(duration=40, redraw=False), transition=dict(duration=0),
                                       fromcurrent=False, mode="immediate")])])])
    return fig
