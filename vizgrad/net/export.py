"""The Network Playground's downloads: runnable PyTorch code, the weights as JSON, the loss curve as CSV.

    code = export_torch_code(trainer.model, cfg)       # rebuilds the model, loads the exact weights, predict()
    doc = export_weights_json(trainer.model, cfg)      # {"format": "vizgrad-mlp-v1", "layers": [...], ...}
    text = loss_curve_csv(trainer.history)             # step,epoch,train_loss,test_loss,train_acc,test_acc
"""
from __future__ import annotations

import io
import json
import math
import weakref
from typing import Callable

import numpy as np

from vizgrad import nn
from vizgrad.net.choices import ACTIVATIONS, LOSSES
from vizgrad.net.config import NetConfig, to_query
from vizgrad.net.features import FEATURES

__all__ = ["export_torch_code", "export_weights_json", "loss_curve_csv", "download_data"]


def _state(model) -> dict:
    return {k: np.asarray(v.detach().numpy()) for k, v in model.state_dict().items()}


def _lists(a: np.ndarray):
    """Exact float32 values as Python floats (repr round-trips float32)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def _src(a) -> str:
    """Nested-list source of a float32 array, each value written with the fewest digits that
    read back to the same float32."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 0:
        v = a.item()
        return str(np.float32(v)) if math.isfinite(v) else f"float('{v}')"
    return "[" + ", ".join(_src(r) for r in a) + "]"


def export_weights_json(model, config: NetConfig | None = None, indent: int | None = None) -> str:
    """{"format": "vizgrad-mlp-v1", "layers": [{"type": "Linear", "in", "out", "weight", "bias"},
    {"type": "Tanh"}, ...], "state_dict": {name: nested lists}, "config": {...}}."""
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            layers.append({"type": "Linear", "in": m.in_features, "out": m.out_features,
                           "weight": _lists(m.weight.detach().numpy()),
                           "bias": _lists(m.bias.detach().numpy()) if m.bias is not None else None})
        else:
            layers.append({"type": type(m).__name__})
    doc = {"format": "vizgrad-mlp-v1", "layers": layers,
           "state_dict": {k: _lists(v) for k, v in _state(model).items()}}
    if config is not None:
        doc["config"] = to_query(config)
    return json.dumps(doc, indent=indent)


def export_torch_code(model, config: NetConfig) -> str:
    """Runnable PyTorch source: the feature map, nn.Sequential, the trained weights (exact), and
    predict(points) giving what the playground shows (P(class 1), class probabilities, or values).
    It uses only `import torch`, so `import vizgrad as torch` runs it too."""
    feats = list(config.features)
    # build_model's layout: hidden layer i is model[2 i], its activation model[2 i + 1]
    mods = [f"torch.nn.Linear({m.in_features}, {m.out_features})" if isinstance(m, nn.Linear)
            else ACTIVATIONS[config.activation[i // 2]].torch for i, m in enumerate(model)]
    state = _state(model)
    state_src = "{\n" + "".join(f"    {k!r}: {_src(v)},\n" for k, v in state.items()) + "}"
    cols = ",\n        ".join(FEATURES[f].torch for f in feats)
    uses_x2 = any(FEATURES[f].needs_x2 for f in feats)
    loss = LOSSES[config.loss]
    head, what = loss.torch_predict, loss.predicts
    src = f'''"""Exported from vizgrad: dataset {config.dataset!r}, features {feats}, hidden {list(config.hidden)},
activations {list(config.activation)}, loss {config.loss!r}. Runs with PyTorch (or `import vizgrad as torch`)."""
import torch

FEATURES = {feats!r}


def featurize(points):
    """(n, 2) points (x1, x2) -> (n, {len(feats)}) network inputs."""
    x = torch.as_tensor(points, dtype=torch.float32)
    x1 = x[:, 0]
{"    x2 = x[:, 1]" + chr(10) if uses_x2 else ""}    return torch.stack([
        {cols},
    ], dim=1)


model = torch.nn.Sequential(
{"".join(f"    {m},{chr(10)}" for m in mods)})

STATE = {state_src}
model.load_state_dict({{k: torch.tensor(v, dtype=torch.float32) for k, v in STATE.items()}})
model.eval()


def predict(points):
    """{what}."""
    with torch.no_grad():
        out = model(featurize(points))
        return {head}


if __name__ == "__main__":
    print(model)
    print(predict([[0.0, 0.0], [2.0, -1.0]]))
'''
    return src


def loss_curve_csv(history) -> str:
    """A trainer's History's evaluated metrics as CSV: step,epoch,train_loss,test_loss,train_acc,
    test_acc (accuracy empty for regression). The recorded evaluations: every one in a run shorter than
    history.max_points, else the first, every eval_stride-th and the latest (see History)."""
    buf = io.StringIO()
    buf.write("step,epoch,train_loss,test_loss,train_acc,test_acc\n")

    def f(v):
        return "" if v != v else repr(float(v))
    for row in zip(history.eval_step, history.eval_epoch, history.train_loss, history.test_loss,
                   history.train_acc, history.test_acc):
        s, e, a, b, c, d = row
        buf.write(f"{s},{e:.6g},{f(a)},{f(b)},{f(c)},{f(d)}\n")
    return buf.getvalue()


def download_data(trainer, what: str) -> Callable[[], str]:
    """A download button's data, made when clicked ("code", "weights" or "curve" of the trainer's
    current state), holding the trainer only weakly: Streamlit may keep a button's callable after
    its session has gone (until some session's next run ends), and a callable defined in the page
    would keep the page's globals (the trainer among them) alive with it."""
    if what not in ("code", "weights", "curve"):
        raise ValueError(f"what must be 'code', 'weights' or 'curve', got {what!r}")
    ref = weakref.ref(trainer)

    def data() -> str:
        tr = ref()
        if tr is None:  # the session is gone
            return ""
        if what == "code":
            return export_torch_code(tr.model, tr.config)
        if what == "weights":
            return export_weights_json(tr.model, tr.config, indent=1)
        return loss_curve_csv(tr.history)
    return data
