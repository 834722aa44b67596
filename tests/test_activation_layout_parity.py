"""silu, softplus and logsigmoid as one node each (torch's names, values, first and second derivatives), the
class names of grad_fn, and is_contiguous/contiguous, against real torch."""
import numpy as np
import pytest

import vizgrad
from tests.conftest import need_torch

X = [-30.0, -3.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 3.0, 30.0]
CASES = {"softplus": lambda F, x: F.softplus(x), "silu": lambda F, x: F.silu(x),
         "logsigmoid": lambda F, x: F.logsigmoid(x),
         "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=1.0),
         "softplus_f32_big": lambda F, x: F.softplus(x * 10)}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_grads_and_second_derivatives_equal_torchs(name, dtype):
    torch = need_torch()
    out = []
    for lib in (torch, vizgrad):
        x = lib.tensor(X, dtype=getattr(lib, dtype), requires_grad=True)
        y = CASES[name](lib.nn.functional, x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x)
        out.append((y.grad_fn.name(), y.detach().numpy(), g.detach().numpy(), gg.numpy()))
    (tn, *tv), (vn, *vv) = out
    assert vn == tn
    tol = 1e-6 if dtype == "float32" else 1e-12
    for t, v in zip(tv, vv):
        np.testing.assert_allclose(v, t, rtol=tol, atol=tol)


def test_grad_fn_class_names_are_torchs():
    torch = need_torch()
    names = []
    for lib in (torch, vizgrad):
        a = lib.tensor(2.0, requires_grad=True)
        e = ((a * 3 + a.exp()).sin() / a).tanh()
        fn, seen = e.grad_fn, []
        while fn is not None:
            seen.append(type(fn).__name__)
            fn = fn.next_functions[0][0] if fn.next_functions else None
        names.append(seen)
    assert names[1] == names[0]


def test_is_contiguous_and_contiguous_as_torch():
    torch = need_torch()
    rows = []
    for lib in (torch, vizgrad):
        x = lib.arange(24.0, requires_grad=True).view(2, 3, 4)
        views = [x, x.t() if x.dim() == 2 else x.transpose(0, 2), x[:, ::2], x[:, 1], x[..., :1], x.permute(1, 0, 2),
                 x.unsqueeze(1), x[:1]]
        row = []
        for v in views:
            c = v.contiguous()
            row.append((v.is_contiguous(), c.is_contiguous(), c is v, c.grad_fn.name() if c.grad_fn else None,
                        v.clone().is_contiguous()))
            assert np.array_equal(c.detach().numpy(), v.detach().numpy())
        rows.append(row)
    assert rows[1] == rows[0]


def test_logsigmoid_module_and_saved_fields_as_torch():
    torch = need_torch()
    got = []
    for lib in (torch, vizgrad):
        x = lib.tensor(X, requires_grad=True)
        y = lib.nn.LogSigmoid()(x)
        got.append((repr(lib.nn.LogSigmoid()), type(y.grad_fn).__name__, y.grad_fn._saved_self.detach().numpy(),
                    y.grad_fn._saved_buffer.numpy()))
    (tr, tn, ts, tb), (vr, vn, vs, vb) = got
    assert (vr, vn) == (tr, tn)
    np.testing.assert_array_equal(vs, ts)
    np.testing.assert_allclose(vb, tb, rtol=1e-6)
