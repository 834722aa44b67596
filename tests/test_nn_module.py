"""nn.Module API: registration, iteration, repr, state_dict, modes, init, and module-call scope tags."""
from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

import vizgrad
import vizgrad.nn as vnn
from vizgrad.nn import init

from tests.conftest import need_torch


def _net_class(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.fc1 = nn.Linear(3, 2)
            self.fc2 = nn.Linear(2, 1)

        def forward(self, x):
            x = lib.sigmoid(self.fc1(x))
            return lib.sigmoid(self.fc2(x))

    return Net


def _zoo(lib):
    nn = lib.nn
    Net = _net_class(lib)

    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Dropout(0.2),
                                     nn.Sequential(nn.Linear(4, 2, bias=False), nn.GELU(approximate="tanh")))
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Tanh()])
            self.net = Net()
            self.register_buffer("running", lib.zeros(2))
            self.register_buffer("scratch", lib.ones(1), persistent=False)
            self.scale = nn.Parameter(lib.ones(1))

        def forward(self, x):
            return x

    return [
        Net(), Deep(),
        nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)),
        nn.Sequential(nn.Flatten(), nn.Linear(6, 3), nn.LeakyReLU(0.2), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1),
                      nn.Sigmoid(), nn.Identity(), nn.Flatten(0, -1)),
        nn.ModuleList(), nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()]),
        nn.MSELoss(), nn.L1Loss(reduction="sum"), nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss(),
        nn.NLLLoss(), nn.GELU(), nn.Dropout(), nn.Softmax(), nn.Linear(3, 4, bias=False),
    ]


def test_repr_matches_torch():
    torch = need_torch()
    for mv, mt in zip(_zoo(vizgrad), _zoo(torch)):
        assert repr(mv) == repr(mt)


def test_names_and_state_dict_keys_match_torch():
    torch = need_torch()
    for mv, mt in zip(_zoo(vizgrad), _zoo(torch)):
        assert list(mv.state_dict().keys()) == list(mt.state_dict().keys())
        assert [n for n, _ in mv.named_parameters()] == [n for n, _ in mt.named_parameters()]
        assert [n for n, _ in mv.named_modules()] == [n for n, _ in mt.named_modules()]
        assert [n for n, _ in mv.named_children()] == [n for n, _ in mt.named_children()]
        assert [n for n, _ in mv.named_buffers()] == [n for n, _ in mt.named_buffers()]
        assert [tuple(p.shape) for p in mv.parameters()] == [tuple(p.shape) for p in mt.parameters()]


def test_parameter_repr_matches_torch():
    torch = need_torch()
    w = np.array([[0.1234, -0.5], [2.0, 3.25]], dtype=np.float32)
    pv, pt = vnn.Parameter(vizgrad.tensor(w)), torch.nn.Parameter(torch.tensor(w))
    assert repr(pv) == repr(pt)
    assert str(pv) == str(pt)
    assert repr(vnn.Parameter(vizgrad.tensor(w), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.tensor(w), requires_grad=False))
    assert isinstance(pv, vizgrad.Tensor) and pv.is_leaf and pv.requires_grad
    assert type(pv * 2) is vizgrad.Tensor


def test_parameter_shares_storage_and_copies():
    t = vizgrad.zeros(3)
    p = vnn.Parameter(t)
    t[0] = 5.0
    assert p[0].item() == 5.0
    q = copy.deepcopy(p)
    assert isinstance(q, vnn.Parameter) and q.requires_grad
    q2 = pickle.loads(pickle.dumps(p))
    assert isinstance(q2, vnn.Parameter) and q2.tolist() == p.tolist()


def test_state_dict_roundtrip_and_errors():
    Net = _net_class(vizgrad)
    a, b = Net(), Net()
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    r = b.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>"
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    bad = dict(sd)
    bad.pop("fc1.bias")
    bad["extra"] = vizgrad.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc1.bias"'):
        b.load_state_dict(bad)
    r = b.load_state_dict(bad, strict=False)
    assert r.missing_keys == ["fc1.bias"] and r.unexpected_keys == ["extra"]
    wrong = dict(sd)
    wrong["fc1.weight"] = vizgrad.zeros(5, 5)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        b.load_state_dict(wrong)
    # state_dict tensors alias the parameters (torch returns detached views)
    sd["fc2.bias"][0] = 42.0
    assert a.fc2.bias.item() == 42.0


def test_module_registration_and_iteration():
    m = vnn.Sequential(vnn.Linear(2, 3), vnn.ReLU(), vnn.Linear(3, 1))
    assert len(m) == 3 and isinstance(m[0], vnn.Linear) and isinstance(m[-1], vnn.Linear)
    assert isinstance(m[1:], vnn.Sequential) and len(m[1:]) == 2
    assert [type(x).__name__ for x in m] == ["Linear", "ReLU", "Linear"]
    assert len(list(m.parameters())) == 4 and len(list(m.children())) == 3 and len(list(m.modules())) == 4
    m.append(vnn.Sigmoid())
    assert len(m) == 4 and list(m._modules) == ["0", "1", "2", "3"]
    del m[1]
    assert list(m._modules) == ["0", "1", "2"] and isinstance(m[1], vnn.Linear)
    ml = vnn.ModuleList([vnn.Linear(1, 1)])
    ml.append(vnn.Tanh())
    ml.extend([vnn.ReLU()])
    ml.insert(0, vnn.Identity())
    assert [type(x).__name__ for x in ml] == ["Identity", "Linear", "Tanh", "ReLU"]
    # shared parameters count once
    lin = vnn.Linear(2, 2)
    shared = vnn.Sequential(lin, lin)
    assert len(list(shared.parameters())) == 2
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = lin.nope
    with pytest.raises(TypeError, match="cannot assign"):
        lin.weight = vizgrad.zeros(2, 2)
    lin.weight = vnn.Parameter(vizgrad.zeros(2, 2))
    assert lin.weight.sum().item() == 0 and lin._parameters["weight"] is lin.weight
    del lin.bias
    assert "bias" not in dict(lin.named_parameters())

    class Bad(vnn.Module):
        def __init__(self):
            self.fc = vnn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_dropout_zero_grad_apply():
    m = vnn.Sequential(vnn.Linear(4, 4), vnn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    x = vizgrad.ones(8, 4)
    np.testing.assert_array_equal(m[1](x).numpy(), x.numpy())
    m.train()
    vizgrad.manual_seed(0)
    y = m[1](vizgrad.ones(1000, 4)).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    m(x).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    names = []
    m.apply(lambda mod: names.append(type(mod).__name__))
    assert names == ["Linear", "Dropout", "Sequential"]
    m.apply(lambda mod: init.zeros_(mod.weight) if isinstance(mod, vnn.Linear) else None)
    assert m[0].weight.abs().sum().item() == 0


def test_buffers():
    m = vnn.Module()
    m.register_buffer("a", vizgrad.ones(2))
    m.register_buffer("b", vizgrad.ones(1), persistent=False)
    assert list(m.state_dict()) == ["a"] and [n for n, _ in m.named_buffers()] == ["a", "b"]
    m.a = vizgrad.zeros(2)
    assert m._buffers["a"].sum().item() == 0
    assert list(m.parameters()) == []


def test_forward_hooks():
    lin = vnn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    lin(vizgrad.ones(3, 2))
    h.remove()
    lin(vizgrad.ones(3, 2))
    assert seen == [vizgrad.Size([3, 2])]


def test_linear_default_init_bounds():
    vizgrad.manual_seed(0)
    lin = vnn.Linear(50, 200)
    bound = 1 / math.sqrt(50)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.01


def test_init_functions():
    torch = need_torch()
    for nl, p in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                  ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert init.calculate_gain(nl, p) == torch.nn.init.calculate_gain(nl, p)
    vizgrad.manual_seed(1)
    t = vizgrad.empty(300, 400)
    init.xavier_uniform_(t, gain=2.0)
    a = 2.0 * math.sqrt(6.0 / 700)
    assert np.abs(t.numpy()).max() <= a and abs(t.numpy().std() - a / math.sqrt(3)) < 0.01
    init.xavier_normal_(t)
    assert abs(t.numpy().std() - math.sqrt(2 / 700)) < 0.003
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2 / 300)) < 0.003
    init.kaiming_uniform_(t, a=0, nonlinearity="relu")
    assert np.abs(t.numpy()).max() <= math.sqrt(6 / 400)
    init.normal_(t, 3.0, 0.5)
    assert abs(t.numpy().mean() - 3.0) < 0.01
    init.constant_(t, 0.25)
    assert (t.numpy() == 0.25).all()
    init.ones_(t)
    assert (t.numpy() == 1).all()
    # a leaf that requires grad is written without recording anything
    p = vnn.Parameter(vizgrad.zeros(3, 3))
    init.uniform_(p, -1, 1)
    assert p.grad_fn is None and p.requires_grad and np.abs(p.detach().numpy()).max() <= 1
    with pytest.raises(ValueError):
        init.xavier_uniform_(vizgrad.zeros(3))


# -- module-call scope tags (the graph view's contract) -----------------------------------------
def test_scope_tags_nested():
    Net = _net_class(vizgrad)
    net = Net()
    x = vizgrad.randn(4, 3)
    y = net(x)
    assert y.grad_fn.name() == "SigmoidBackward0" and y.grad_fn.scope == (":Net",)
    addmm2 = y.grad_fn.inputs[0].grad_fn
    assert addmm2.name() == "AddmmBackward0" and addmm2.scope == (":Net", "fc2:Linear")
    sig1 = addmm2.inputs[1].grad_fn
    assert sig1.scope == (":Net",)
    addmm1 = sig1.inputs[0].grad_fn
    assert addmm1.scope == (":Net", "fc1:Linear")
    t_node = addmm1.next_functions[2][0]   # torch's graph: AddmmBackward0 over TBackward0(W)
    assert t_node.name() == "TBackward0" and t_node is addmm1.next_functions[2][0]
    assert t_node.scope == (":Net", "fc1:Linear")
    assert t_node.next_functions[0][0].variable is net.fc1.weight


def test_scope_tags_bare_module_sequential_and_outside():
    lin = vnn.Linear(2, 3)
    x = vizgrad.randn(5, 2, requires_grad=True)
    pre = x * 2                      # made outside any module: no scope
    out = lin(pre)
    assert out.grad_fn.scope == (":Linear",)
    assert not hasattr(pre.grad_fn, "scope")
    post = out.sum()
    assert not hasattr(post.grad_fn, "scope")
    seq = vnn.Sequential(vnn.Linear(2, 3), vnn.Tanh(), vnn.Sequential(vnn.Linear(3, 1)))
    o = seq(pre)
    assert o.grad_fn.scope == (":Sequential", "2:Sequential", "2.0:Linear")
    tanh = o.grad_fn.inputs[1].grad_fn
    assert tanh.scope == (":Sequential", "1:Tanh")
    assert not hasattr(pre.grad_fn, "scope")  # the input's history is not crossed


def test_scope_tags_loss_and_identity():
    crit = vnn.MSELoss()
    a = vizgrad.randn(3, requires_grad=True)
    b = a * 3
    loss = crit(b, vizgrad.zeros(3))
    assert loss.grad_fn.scope == (":MSELoss",)
    assert not hasattr(b.grad_fn, "scope")
    ident = vnn.Identity()
    assert ident(b) is b and not hasattr(b.grad_fn, "scope")


def test_scope_tags_shared_submodule_and_no_grad():
    class Twice(vnn.Module):
        def __init__(self):
            super().__init__()
            self.f = vnn.Linear(2, 2)

        def forward(self, x):
            return self.f(vizgrad.relu(self.f(x)))

    m = Twice()
    y = m(vizgrad.randn(1, 2))
    assert y.grad_fn.scope == (":Twice", "f:Linear")
    assert y.grad_fn.inputs[1].grad_fn.scope == (":Twice",)
    assert y.grad_fn.inputs[1].grad_fn.inputs[0].grad_fn.scope == (":Twice", "f:Linear")
    with vizgrad.no_grad():
        assert m(vizgrad.randn(1, 2)).grad_fn is None


def test_scope_tags_survive_copies_and_structure_changes():
    import copy
    import pickle
    seq = vnn.Sequential(vnn.Linear(2, 3), vnn.Tanh(), vnn.Linear(3, 1))
    x = vizgrad.randn(4, 2)
    seq(x)  # fills the per-module memos
    for m in (seq, copy.deepcopy(seq), pickle.loads(pickle.dumps(seq))):
        out = m(x)
        assert out.grad_fn.scope == (":Sequential", "2:Linear")
        assert out.grad_fn.inputs[1].grad_fn.scope == (":Sequential", "1:Tanh")
    seq.add_module("3", vnn.Sigmoid())
    assert seq(x).grad_fn.scope == (":Sequential", "3:Sigmoid")
    assert seq[0](x).grad_fn.scope == (":Linear",)  # the same module called on its own
