"""Autograd semantics as torch defines them: errors, accumulation, grad modes, hooks, memory.

Each behaviour is asserted with the values and messages torch gives (spelled out, so these run
without torch); ``test_snippet_vs_torch`` also runs every snippet under real torch and compares.
"""
from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest

import vizgrad
import vizgrad as torch  # the snippets below are torch code

NONSCALAR = "grad can be implicitly created only for scalar outputs"
TWICE = "Trying to backward through the graph a second time"
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
NONLEAF_GRAD = "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"


# -- errors -----------------------------------------------------------------------------------------
def test_backward_nonscalar_without_gradient_raises():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=NONSCALAR):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=NONSCALAR):
        torch.autograd.backward(x * 2)


def test_backward_one_element_needs_no_gradient():
    x = torch.tensor([3.0], requires_grad=True)
    (x * x).backward()
    assert repr(x.grad) == "tensor([6.])"


def test_backward_with_gradient_argument():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(torch.tensor([1.0, 0.5]))
    assert repr(x.grad) == "tensor([2., 2.])"
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * x).backward(torch.tensor([1.0, 0.5, 2.0]))


def test_backward_twice_raises_and_retain_graph_allows():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=TWICE) as e:
        y.backward()
    assert "retain_graph=True" in str(e.value)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert repr(x.grad) == "tensor([ 8., 16.])"  # 2 (first graph) + 3 backwards through the second, 2x each


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        torch.tensor([1.0]).sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    for op in (lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.sub_(1), lambda x: x.div_(2),
               lambda x: x.zero_(), lambda x: x.fill_(3), lambda x: x.clamp_(0, 1), lambda x: x.exp_(),
               lambda x: x.neg_(), lambda x: x.pow_(2), lambda x: x.copy_(torch.zeros(3))):
        x = torch.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match=LEAF_INPLACE):
            op(x)
        assert x.tolist() == [1.0, 1.0, 1.0] and x.is_leaf
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_INPLACE):
        x += 1
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0] = 5.0


def test_inplace_on_leaf_allowed_under_no_grad():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        x.add_(1)
        x[0] = 5.0
        x *= 2
    assert repr(x) == "tensor([10.,  4.,  4.], requires_grad=True)" and x.is_leaf


def test_inplace_on_nonleaf_is_recorded():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(x)
    assert y.grad_fn.name() == "MulBackward0" and not y.is_leaf
    y.sum().backward()
    assert repr(x.grad) == "tensor([5., 9.])"  # d/dx (2x+1)x = 4x+1


def test_inplace_with_itself_as_operand_has_no_self_loop():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(y)  # torch refuses this at backward (version counter); vizgrad must at least not loop
    assert y.grad_fn.next_functions[0][0] is y.grad_fn.next_functions[1][0] is not y.grad_fn
    y.sum().backward()
    assert repr(x.grad) == "tensor([ 8., 16.])"  # d/dx (2x)^2 = 8x


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        torch.tensor([1, 2]).requires_grad_()
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False


def test_numpy_of_tensor_requiring_grad_raises():
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        torch.ones(2, requires_grad=True).numpy()
    assert torch.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]


def test_item():
    assert torch.tensor([2.5]).item() == 2.5 and type(torch.tensor(3).item()) is int
    assert torch.tensor(True).item() is True
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        torch.tensor([1.0, 2.0]).item()


# -- accumulation, non-leaf .grad, retain_grad, hooks ------------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    assert repr(x.grad) == "tensor([5., 7.])"
    assert x.grad is g  # accumulated in place, as torch
    x.grad.zero_()
    assert repr(x.grad) == "tensor([0., 0.])"
    x.grad = None
    (x ** 3).sum().backward()
    assert repr(x.grad) == "tensor([ 3., 12.])"


def test_fan_out_accumulates_within_one_backward():
    x = torch.tensor(2.0, requires_grad=True)
    y = x * x * x + x.exp() * x
    y.backward()
    assert abs(x.grad.item() - (3 * 4 + np.exp(2) * 3)) < 1e-4


def test_nonleaf_grad_is_none_with_warning():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match=NONLEAF_GRAD):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # a leaf: no warning


def test_retain_grad_keeps_nonleaf_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(y.grad) == "tensor([4., 8.])"
    assert y.retains_grad and not x.retains_grad


def test_register_hook_on_leaf_and_nonleaf():
    x = torch.ones(3, requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.clone()) or g * 10)
    (x * 2).sum().backward()
    assert repr(x.grad) == "tensor([20., 20., 20.])" and repr(seen[0]) == "tensor([2., 2., 2.])"
    h.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert repr(x.grad) == "tensor([2., 2., 2.])"

    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    assert repr(x.grad) == "tensor([10., 10.])"  # (2y + 1) * 2
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        torch.ones(2).register_hook(lambda g: g)


def test_detach_and_requires_grad_flow():
    x = torch.ones(3, requires_grad=True)
    d = (x * 2).detach()
    assert (d.requires_grad, d.is_leaf, d.grad_fn) == (False, True, None)
    x.detach()[0] = 7.0  # shares storage
    assert x.tolist() == [7.0, 1.0, 1.0]
    x.data[1] = 8.0
    assert x.tolist() == [7.0, 8.0, 1.0] and x.requires_grad
    c = torch.ones(3)
    y = x * c
    assert y.requires_grad and not y.is_leaf and not c.requires_grad
    y.sum().backward()
    assert c.grad is None
    z = torch.ones(2) * 2
    assert (z.requires_grad, z.grad_fn, z.is_leaf) == (False, None, True)
    w = torch.tensor([1.0]).requires_grad_()
    assert w.requires_grad and w.is_leaf


def test_grad_fn_and_next_functions():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    (acc, _), (const, _) = mul.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x and const is None
    assert x.grad_fn is None


# -- grad modes --------------------------------------------------------------------------------------------
def test_no_grad_context_and_decorator():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        y = x * 2
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    assert (y.requires_grad, y.grad_fn) == (False, None)

    @torch.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and torch.is_grad_enabled()


def test_no_grad_bare_decorator():
    @torch.no_grad
    def g(t):
        return t * 2

    assert not g(torch.ones(3, requires_grad=True)).requires_grad and torch.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        with torch.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad

    @torch.enable_grad()
    def f(t):
        return t * 2

    with torch.no_grad():
        assert f(x).requires_grad
        assert not torch.is_grad_enabled()


def test_set_grad_enabled_forms():
    x = torch.ones(3, requires_grad=True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    torch.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert (x * 2).requires_grad

    @torch.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert torch.is_grad_enabled()
    assert not f(x).requires_grad and torch.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


# -- scale and memory ------------------------------------------------------------------------------------
def test_backward_through_100k_op_chain_is_iterative():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 3.0
    y.backward()
    assert x.grad.item() == 3.0
    del y  # freeing the chain must not recurse either


def test_long_chain_grad_value():
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.001 + 0.0
    y.backward()
    assert abs(x.grad.item() - 1.001 ** 2000) < 1e-9


def _graph_refs(x):
    a = x * 2
    b = a.exp()
    c = (b * a).sum()
    return c, [weakref.ref(t) for t in (a, b, c)] + [weakref.ref(t.grad_fn) for t in (a, b, c)]


@pytest.mark.parametrize("after_backward", [False, True])
def test_dropped_graph_is_freed(after_backward):
    x = torch.ones(3, requires_grad=True)
    c, refs = _graph_refs(x)
    if after_backward:
        c.backward()
    assert all(r() is not None for r in refs)  # alive while the output is referenced
    del c
    gc.collect()
    assert [r() for r in refs] == [None] * len(refs)
    assert x.grad is None or x.grad.shape == (3,)


def test_dropped_graph_is_freed_without_gc():
    """No reference cycles: refcounting alone frees a dropped graph."""
    x = torch.ones(3, requires_grad=True)
    gc.disable()
    try:
        c, refs = _graph_refs(x)
        c.backward()
        del c
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


def test_leaf_kept_alive_only_by_its_users():
    x = torch.ones(3, requires_grad=True)
    y = (x * 2).sum()
    rx = weakref.ref(x)
    del x
    assert rx() is not None  # the graph holds its inputs
    del y
    gc.collect()
    assert rx() is None


# -- the same snippets under real torch ------------------------------------------------------------------
SNIPPETS = {
    "accumulate": "x = torch.tensor([1., 2.], requires_grad=True); (x * x).sum().backward(); (x * 3).sum().backward(); out = x.grad",
    "twice_retain": "x = torch.ones(3, requires_grad=True); y = (x * x).sum(); y.backward(retain_graph=True); y.backward(); out = x.grad",
    "twice": "x = torch.ones(3, requires_grad=True); y = (x * x).sum(); y.backward(); y.backward()",
    "nonscalar": "x = torch.ones(3, requires_grad=True); (x * 2).backward()",
    "inplace_leaf": "x = torch.ones(3, requires_grad=True); x.add_(1)",
    "inplace_leaf_setitem": "x = torch.ones(3, requires_grad=True); x[0] = 5.",
    "inplace_nonleaf": "x = torch.ones(3, requires_grad=True); y = x * 2; y.add_(1); y.sum().backward(); out = (y, x.grad)",
    "nonleaf_grad": "x = torch.ones(3, requires_grad=True); y = x * 2; y.sum().backward(); out = y.grad",
    "retain_grad": "x = torch.ones(3, requires_grad=True); y = x * 2; y.retain_grad(); (y * y).sum().backward(); out = y.grad",
    "hook": "x = torch.ones(3, requires_grad=True); h = x.register_hook(lambda g: g * 10); (x * 2).sum().backward(); out = x.grad",
    "hook_nonleaf": "x = torch.ones(3, requires_grad=True); y = x * 2; y.register_hook(lambda g: g + 1); (y * y).sum().backward(); out = x.grad",
    "no_grad": "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    y = x * 2\nout = (y, y.requires_grad, y.grad_fn)",
    "set_grad_enabled": "x = torch.ones(3, requires_grad=True)\nwith torch.set_grad_enabled(False):\n    y = x * 2\nout = (y, x * 2, torch.is_grad_enabled())",
    "detach": "x = torch.ones(3, requires_grad=True); d = (x * 2).detach(); out = (d, d.requires_grad, d.is_leaf, d.grad_fn)",
    "data": "x = torch.ones(3, requires_grad=True); x.data *= 3; x.data[0] = 7.; out = x",
    "item_many": "torch.tensor([1., 2.]).item()",
    "numpy_grad": "torch.ones(2, requires_grad=True).numpy()",
    "gradient_shape": "x = torch.tensor([1., 2.], requires_grad=True); (x * x).backward(torch.tensor([1., 0.5, 2.]))",
    "backward_noreq": "torch.tensor([1.]).sum().backward()",
    "backward_leaf": "x = torch.tensor(3., requires_grad=True); x.backward(); out = x.grad",
    "requires_grad_nonleaf": "x = torch.ones(2, requires_grad=True); y = x * 2; y.requires_grad = False",
    "int_requires_grad": "torch.tensor([1, 2]).requires_grad_()",
    "hook_noreq": "torch.ones(2).register_hook(lambda g: g)",
    "zero_grad": "x = torch.ones(3, requires_grad=True); (x*2).sum().backward(); x.grad.zero_(); out = x.grad",
    "shape": "x = torch.zeros(2, 3); out = (x.shape, x.size(), x.size(-1), x.dim(), x.dtype, x.shape[0], len(x))",
}


def _run(lib, code):
    ns = {"torch": lib}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            exec(code, ns)
            result = repr(ns.get("out"))
        except Exception as e:
            result = f"{type(e).__name__}: {e}"
    return result, [str(m.message)[:60] for m in w]


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_vs_torch(name, torch_ref):
    assert _run(vizgrad, SNIPPETS[name]) == _run(torch_ref, SNIPPETS[name])


def test_inplace_change_of_a_saved_input_is_refused_like_torch():
    import vizgrad

    def run(lib):
        x = lib.ones(2, requires_grad=True)
        s = (x * x).sum()
        with lib.no_grad():
            x.mul_(2)
        with pytest.raises(RuntimeError) as e:
            s.backward()
        return str(e.value)

    msg = run(vizgrad)
    assert "modified by an inplace operation" in msg and "is at version 1; expected version 0" in msg
    from tests.conftest import need_torch
    assert run(need_torch()) == msg


def test_grad_mode_and_module_scopes_are_per_thread():
    """A Streamlit server runs each session in its own thread: one user's no_grad (or module call)
    must not leak into another's graph, as torch's grad mode is thread-local too."""
    import threading

    import vizgrad

    entered, release = threading.Event(), threading.Event()
    seen = {}

    def other_user():
        with vizgrad.no_grad():
            entered.set()
            release.wait(5)
            seen["other"] = (vizgrad.ones(2, requires_grad=True) * 2).requires_grad

    t = threading.Thread(target=other_user)
    t.start()
    entered.wait(5)
    x = vizgrad.ones(2, requires_grad=True)
    y = x * 2  # this thread is still in grad mode
    release.set()
    t.join()
    assert y.requires_grad and y.grad_fn is not None
    assert seen["other"] is False
    assert not hasattr(y.grad_fn, "scope")


def test_default_random_stream_is_per_thread():
    """manual_seed in one app session (thread) must not disturb another session's draws."""
    import threading

    import vizgrad

    vizgrad.manual_seed(3)
    first = vizgrad.rand(2)
    t = threading.Thread(target=lambda: (vizgrad.manual_seed(99), vizgrad.rand(5)))
    t.start()
    t.join()
    second = vizgrad.rand(2)
    vizgrad.manual_seed(3)
    assert vizgrad.equal(vizgrad.cat([first, second]), vizgrad.rand(4))


def test_malloc_tuning_is_optional_and_reports_itself(monkeypatch):
    from vizgrad._alloc import tune_malloc

    monkeypatch.setenv("VIZGRAD_MALLOC_TUNING", "0")
    assert tune_malloc() is False
    monkeypatch.delenv("VIZGRAD_MALLOC_TUNING")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert tune_malloc() is False  # the user's own setting wins


def test_numpy_array_protocol_copies_like_torch(torch_ref):
    # np.array(t) copies and np.asarray(t) shares memory, in torch and here
    for lib in (torch_ref, vizgrad):
        t = lib.tensor([1.0, 2.0])
        np.array(t)[0] = 9.0
        np.asarray(t)[1] = 7.0
        assert t.tolist() == [1.0, 7.0], lib.__name__
