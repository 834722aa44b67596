"""Custom autograd.Function, gradcheck/gradgradcheck, and anomaly detection."""
from __future__ import annotations

import numpy as np
import pytest

import vizgrad
import vizgrad.nn as nn
from vizgrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck

from tests.conftest import need_torch


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class ScaledSoftplus(Function):
    """y = log(1 + exp(k x)) / k with a non-tensor argument k."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return vizgrad.log(1 + vizgrad.exp(x * k)) / k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * vizgrad.sigmoid(x * ctx.k), None


class MulAdd(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        a, b = ctx.saved_tensors
        return g_prod * b + g_sum, g_prod * a + g_sum


def test_custom_function_node_and_grad():
    x = vizgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = MyExp.apply(x)
    assert repr(y).endswith("grad_fn=<MyExpBackward>)")
    node = y.grad_fn
    assert node.name() == "MyExpBackward" and node.custom is True and node.symbol == "MyExp"
    assert node.latex == ("\\text{custom backward}",)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()), rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    with vizgrad.no_grad():
        assert MyExp.apply(x).grad_fn is None


def test_custom_function_matches_torch_name():
    torch = need_torch()

    class MyExpT(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            return g

    assert MyExpT.apply(torch.ones(1, requires_grad=True)).grad_fn.name() == "MyExpTBackward"


def test_gradcheck_and_gradgradcheck_custom():
    x = vizgrad.tensor(np.linspace(-1, 1, 4), dtype=vizgrad.float64, requires_grad=True)
    assert gradcheck(MyExp.apply, (x,))
    assert gradgradcheck(MyExp.apply, (x,))
    assert gradcheck(lambda t: ScaledSoftplus.apply(t, 2.0), (x,))
    assert gradgradcheck(lambda t: ScaledSoftplus.apply(t, 2.0), (x,))
    y = vizgrad.tensor([0.3, 0.7], dtype=vizgrad.float64, requires_grad=True)
    z = vizgrad.tensor([1.5, -0.2], dtype=vizgrad.float64, requires_grad=True)
    assert gradcheck(MulAdd.apply, (y, z))


def test_gradcheck_reports_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = vizgrad.tensor([1.0, 2.0], dtype=vizgrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as e:
        gradcheck(Wrong.apply, (x,))
    msg = str(e.value)
    assert "Jacobian mismatch for output 0 with respect to input 0" in msg
    assert "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 4.0000]]" in msg
    assert "analytical:tensor([[3., 0.],\n        [0., 3.]]" in msg
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    assert isinstance(e.value, RuntimeError)


def test_gradcheck_warns_on_float32():
    x = vizgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_custom_function_double_backward_matches_torch():
    torch = need_torch()
    res = []
    for L in (vizgrad, torch):
        class E(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        x = L.tensor([0.2, 0.4], dtype=L.float64, requires_grad=True)
        (g,) = L.autograd.grad((E.apply(x) * x).sum(), x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        res.append((g.detach().numpy().copy(), h.numpy().copy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_multiple_outputs_and_non_differentiable():
    a = vizgrad.tensor([1.0, 2.0], requires_grad=True)
    b = vizgrad.tensor([3.0, 4.0], requires_grad=True)
    p, s = MulAdd.apply(a, b)
    (p.sum() * 2 + s.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), [7.0, 9.0])
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 5.0])

    class ArgMaxPair(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return x.max(), idx

        @staticmethod
        def backward(ctx, g, g_idx):
            x, idx = ctx.saved_tensors
            out = vizgrad.zeros_like(x)
            out[int(idx)] = 1.0
            return out * g

    x = vizgrad.tensor([0.1, 3.0, 2.0], requires_grad=True)
    m, i = ArgMaxPair.apply(x)
    assert not i.requires_grad and int(i) == 1
    m.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1, 0])


def test_custom_function_inside_network_trains():
    class MyReLU(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x > 0).float()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 16)
            self.fc2 = nn.Linear(16, 1)

        def forward(self, x):
            return self.fc2(MyReLU.apply(self.fc1(x)))

    vizgrad.manual_seed(0)
    net = Net()
    rng = np.random.default_rng(0)
    x = vizgrad.tensor(rng.standard_normal((64, 2)).astype(np.float32))
    y = vizgrad.tensor((x.numpy()[:, :1] * x.numpy()[:, 1:] > 0).astype(np.float32))
    opt = vizgrad.optim.Adam(net.parameters(), lr=0.05)
    crit = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = crit(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    out = net(x)
    relu_node = out.grad_fn.inputs[1].grad_fn
    assert relu_node.name() == "MyReLUBackward" and relu_node.scope == (":Net",)


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    x = vizgrad.tensor([2.0], requires_grad=True)
    Cube.apply(x).backward()
    assert x.grad.tolist() == [12.0]


def test_anomaly_detection_names_the_op():
    x = vizgrad.tensor([0.0, 1.0], requires_grad=True)
    with vizgrad.autograd.detect_anomaly():
        y = vizgrad.sqrt(x) * 0.0 + x     # sqrt'(0) = inf, times 0 -> nan inside SqrtBackward0's input grad
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output"):
            y.sum().backward()
    # without anomaly mode the nan silently reaches .grad, as in torch
    x.grad = None
    y = vizgrad.sqrt(x) * 0.0 + x
    y.sum().backward()
    assert np.isnan(x.grad.numpy()[0])
    assert not vizgrad.autograd.is_anomaly_enabled()


def test_anomaly_detection_names_custom_function():
    class NanGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = vizgrad.tensor([1.0], requires_grad=True)
    with vizgrad.autograd.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match="Function 'NanGradBackward' returned nan values"):
            NanGrad.apply(x).sum().backward()


def test_anomaly_matches_torch_message():
    torch = need_torch()
    msgs = []
    for L in (vizgrad, torch):
        x = L.tensor([0.0, 1.0], requires_grad=True)
        with L.autograd.detect_anomaly(), pytest.warns(UserWarning) if L is torch else _null():
            try:
                (L.sqrt(x) * 0.0 + x).sum().backward()
            except RuntimeError as e:
                msgs.append(str(e).splitlines()[0])
    assert msgs[0] == msgs[1]


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_custom_function_on_an_initialised_parameter_and_inplace_check():
    """nn.init writes parameters in place (version 1): a custom Function must still backprop
    through them, and refuse, like any op, when an input changes after it was saved."""
    from vizgrad.autograd import Function

    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    p = vizgrad.nn.Parameter(vizgrad.ones(3))
    vizgrad.nn.init.constant_(p, 3.0)
    Sq.apply(p).sum().backward()
    assert p.grad.tolist() == [6.0, 6.0, 6.0]
    y = Sq.apply(p).sum()
    with vizgrad.no_grad():
        p.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_central_differences_match_the_analytic_gradient():
    """autograd.gradcheck.central_difference(s): the finite-difference helper the app's checks share."""
    from vizgrad.autograd.gradcheck import central_difference, central_differences
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.1, -0.7]])

    def f(v):
        return float(np.sum(np.sin(v) * v))

    np.testing.assert_allclose(central_differences(f, x, rel=1e-5), np.cos(x) * x + np.sin(x), rtol=1e-7)
    flat = x.reshape(-1).copy()
    d = central_difference(lambda v: float(np.sum(v ** 3)), flat, 3, rel=1e-3)
    assert abs(d - 3 * 3.0 ** 2) < 1e-4 and np.array_equal(flat, x.reshape(-1))  # the input is not changed
    seen = []
    central_difference(lambda v: seen.append(v.dtype) or 0.0, flat.astype(np.float32), 0)
    assert seen == [np.float32, np.float32]  # the perturbed copy keeps the array's dtype
