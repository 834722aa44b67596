"""remainder (%), fmod and broadcast_shapes against real torch: values (signed zeros included, as
torch prints them), node names, gradients; gradcheck on both inputs."""
import numpy as np
import pytest

import vizgrad
from tests.conftest import need_torch
from vizgrad.autograd import gradcheck

CASES = {
    "tensor % tensor": lambda L, x, y: x % y,
    "tensor % number": lambda L, x, y: x % 2,
    "remainder negative divisor": lambda L, x, y: L.remainder(x, -1.5),
    "fmod tensor": lambda L, x, y: L.fmod(x, y),
    "fmod number": lambda L, x, y: x.fmod(2.5),
}


@pytest.mark.parametrize("name", CASES)
def test_values_names_and_grads_equal_torchs(name):
    torch = need_torch()
    rows = []
    for lib in (torch, vizgrad):
        x = lib.tensor([-3.5, -3.0, -2.0, -0.5, 0.0, 0.5, 2.0, 3.7], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([2.0, -2.0, 2.0, -2.0, 1.5, -1.5, 3.0, -0.7], dtype=lib.float64, requires_grad=True)
        out = CASES[name](lib, x, y)
        out.sum().backward()
        v = out.detach().numpy()
        rows.append((out.grad_fn.name(), v.tolist(), np.signbit(v).tolist(), x.grad.numpy().tolist(),
                     None if y.grad is None else y.grad.numpy().tolist(), str(out.detach())))
    assert rows[1] == rows[0]


def test_integer_remainder_and_fmod_and_broadcast_shapes():
    torch = need_torch()
    got = [str(vizgrad.arange(-7, 7) % 3), str(vizgrad.fmod(vizgrad.arange(-7, 7), 3)), str(vizgrad.arange(5) % 2.5),
           tuple(vizgrad.broadcast_shapes((2, 1), (3,))), tuple(vizgrad.broadcast_shapes(3, (4, 1)))]
    want = [str(torch.arange(-7, 7) % 3), str(torch.fmod(torch.arange(-7, 7), 3)), str(torch.arange(5) % 2.5),
            tuple(torch.broadcast_shapes((2, 1), (3,))), tuple(torch.broadcast_shapes(3, (4, 1)))]
    assert got == want
    with pytest.raises(RuntimeError, match="Shape mismatch"):
        vizgrad.broadcast_shapes((2,), (3,))


def test_number_mod_tensor_as_torch_values_node_and_no_derivative():
    """`7 % x` and remainder(7., x) are remainder(Scalar, Tensor): torch records a NotImplemented
    node and its backward raises; remainder(tensor(7.), x) is differentiable."""
    torch = need_torch()
    rows = []
    for lib in (torch, vizgrad):
        x = lib.tensor([3.0, -4.0, 2.5], requires_grad=True)
        y = 7 % x
        try:
            y.sum().backward()
            err = None
        except RuntimeError as e:
            err = str(e)
        ints = 7 % lib.tensor([3, -4]), 7.5 % lib.tensor([3, -4])
        z, w = lib.remainder(7.0, x), lib.remainder(lib.tensor(7.0), x)
        rows.append((str(y), type(y.grad_fn).__name__, err, [str(i) for i in ints], z.grad_fn.name(), str(z),
                     w.grad_fn.name()))
    assert rows[1] == rows[0]


def test_gradcheck_away_from_the_jumps():
    rng = np.random.default_rng(0)
    x = vizgrad.tensor(rng.uniform(0.1, 0.9, 6) + rng.integers(-3, 3, 6), dtype=vizgrad.float64, requires_grad=True)
    y = vizgrad.tensor(rng.choice([-1.0, 1.0], 6) * rng.uniform(1.3, 1.7, 6), dtype=vizgrad.float64,
                       requires_grad=True)
    assert gradcheck(lambda a, b: a % b, (x, y), eps=1e-7)
    assert gradcheck(lambda a, b: vizgrad.fmod(a, b), (x, y), eps=1e-7)
