"""Memory-free heavy ball (issue 28): the backward pass that reconstructs activations gives the
stored-activation gradients, keeps BatchNorm's statistics, stores nothing per layer, and refuses
the structures it cannot invert."""

import pytest
import torch
from torch import nn

from glassnet.nn.optnets import CifarResNet, OptStructure
from glassnet.nn.optnets.invertible import reconstruction_error
from glassnet.registry import create_model

D64 = torch.float64


def _set_invertible(model, flag):
    for m in model.modules():
        if isinstance(m, OptStructure):
            m.invertible = flag


def _grads(model, x, invertible):
    """Output, input gradient, parameter gradients and buffers after one backward pass."""
    _set_invertible(model, invertible)
    model.zero_grad()
    x = x.clone().requires_grad_(True)
    out = model(x)
    (out.square().sum() + out.sum()).backward()
    return (out.detach(), x.grad, [p.grad.clone() for p in model.parameters()],
            {k: v.clone() for k, v in model.state_dict().items()})


def _both_ways(st, x0, loss, xp=None):
    """``loss(st(x0, x_prev=xp)).backward()`` with the inversion, then with stored activations;
    per way: the output, the inputs' gradients and the parameters' gradients."""
    inputs = [t for t in (x0, xp) if t is not None]
    res = []
    for flag in (True, False):
        st.invertible = flag
        st.zero_grad()
        for t in inputs:
            t.grad = None
        out = st(x0, x_prev=xp)
        loss(out).backward()
        res.append((out.detach(), [t.grad.clone() for t in inputs],
                    [None if p.grad is None else p.grad.clone() for p in st.parameters()]))
    return res


@pytest.mark.parametrize("name", ["hbnet20", "hbnet56"])
def test_invertible_hbnet_gradients_equal_stored_activations_float64(name):
    torch.manual_seed(0)
    model = create_model(name, invertible=True).double().train()
    x = torch.randn(4, 3, 16, 16, dtype=D64)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    out_a, gx_a, gp_a, buf_a = _grads(model, x, invertible=True)
    model.load_state_dict(start)
    out_b, gx_b, gp_b, buf_b = _grads(model, x, invertible=False)
    torch.testing.assert_close(out_a, out_b, rtol=0, atol=1e-12)
    torch.testing.assert_close(gx_a, gx_b, rtol=1e-5, atol=1e-5 * float(gx_b.abs().max()))
    assert len(gp_a) == len(gp_b) > 0
    for a, b in zip(gp_a, gp_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()) + 1e-12)
    # BatchNorm's running statistics moved once, as without the inversion
    for k in buf_b:
        torch.testing.assert_close(buf_a[k], buf_b[k], rtol=0, atol=1e-12)
    assert any(not torch.equal(buf_b[k], start[k]) for k in buf_b)


@pytest.mark.parametrize("beta", [(1.0, -1.0), (0.5, -0.5), (1.0, 0.3)])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("with_prev", [False, True])
def test_structure_gradients_equal_for_any_momentum(beta, shared, with_prev):
    torch.manual_seed(1)
    mk = lambda: nn.Sequential(nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 6))
    T = mk() if shared else [mk() for _ in range(5)]
    st = OptStructure(T, "hb", depth=5, beta=beta, invertible=True).double()
    x0 = torch.randn(3, 6, dtype=D64, requires_grad=True)
    xp = torch.randn(3, 6, dtype=D64, requires_grad=True) if with_prev else None
    (out_a, gx_a, gp_a), (out_b, gx_b, gp_b) = _both_ways(st, x0, lambda out: (out ** 3).sum(), xp)
    torch.testing.assert_close(out_a, out_b, rtol=0, atol=1e-12)
    for a, b in zip(gx_a + gp_a, gx_b + gp_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9)


def _saved_bytes(model, x):
    """Bytes autograd keeps for the backward pass of one forward (saved-tensor hooks)."""
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum()
    return total[0]


def test_invertible_activation_memory_does_not_grow_with_depth():
    x = torch.randn(2, 3, 16, 16)
    inv = {d: _saved_bytes(create_model(f"hbnet{d}", invertible=True).train(), x) for d in (20, 56)}
    plain = {d: _saved_bytes(create_model(f"hbnet{d}").train(), x) for d in (20, 56)}
    assert inv[20] == inv[56]  # only the stages' first blocks and two states per stage
    assert plain[56] > 2.5 * plain[20]  # stored activations grow with the blocks
    assert inv[56] < 0.25 * plain[56]


def test_same_weights_as_hbnet_and_same_function_without_grad():
    torch.manual_seed(0)
    hb = create_model("hbnet20")
    inv = create_model("hbnet20", invertible=True)
    inv.load_state_dict(hb.state_dict())  # same parameters and buffers
    inv.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        a = inv(x)
    _set_invertible(inv, False)
    with torch.no_grad():
        b = inv(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_reconstruction_error_is_rounding_sized():
    torch.manual_seed(0)
    m = create_model("hbnet56", invertible=True).train()
    st = m.stages[0]
    h = m.stem(torch.randn(4, 3, 16, 16))
    s = st.shortcut(h)
    x1 = torch.relu(st.first(h) + s)
    err32 = reconstruction_error(st.hb, x1.detach(), s.detach())
    err64 = reconstruction_error(st.hb.double(), x1.detach().double(), s.detach().double())
    assert 0 <= err64 < 1e-12 and err64 <= err32 < 1e-3


def test_invertible_trains():
    torch.manual_seed(0)
    m = create_model("hbnet20", invertible=True, num_classes=2)
    x = torch.randn(16, 3, 16, 16)
    y = (x.mean((1, 2, 3)) > 0).long()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_bad_invertible_structures_raise():
    blocks = lambda n=3: [nn.Linear(4, 4) for _ in range(n)]
    with pytest.raises(ValueError, match="beta_2 = 0"):
        create_model("resnet20", invertible=True)
    with pytest.raises(ValueError, match="beta_2 = 0"):
        CifarResNet(20, beta=(1.0, 0.0), invertible=True)
    with pytest.raises(ValueError, match="learnable"):
        OptStructure(blocks(), "hb", beta=(1.0, -1.0), learnable=True, invertible=True)
    with pytest.raises(ValueError, match="activation"):
        OptStructure(blocks(), "hb", beta=(1.0, -1.0), activation=nn.ReLU(), invertible=True)
    with pytest.raises(ValueError, match="scheme"):
        OptStructure(blocks(), "agd", invertible=True)
    with pytest.raises(ValueError, match="Dropout"):
        OptStructure([nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1)) for _ in range(2)], "hb",
                     beta=(1.0, -1.0), invertible=True)


def test_transforms_that_return_their_input_are_not_overwritten():
    st = OptStructure([nn.Identity(), nn.Linear(3, 3).double()], "hb", beta=(1.0, -0.5),
                      invertible=True)
    x0 = torch.randn(2, 3, dtype=D64, requires_grad=True)
    keep = x0.detach().clone()
    (out_a, (gx_a,), _), (out_b, (gx_b,), _) = _both_ways(st, x0, lambda out: (out ** 2).sum())
    torch.testing.assert_close((out_a, gx_a), (out_b, gx_b), rtol=1e-10, atol=1e-12)
    assert torch.equal(x0.detach(), keep)
    assert reconstruction_error(st, x0.detach()) < 1e-12


class _Counting(nn.Module):
    """A transform with a buffer that its forward moves (not a BatchNorm)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.register_buffer("calls", torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        self.calls += 1
        return torch.tanh(self.lin(x))


@pytest.mark.parametrize("kind", ["batchnorm", "cumulative", "eval_batchnorm", "other_buffer"])
def test_buffers_move_once_per_training_step(kind):
    """Running statistics after one invertible step equal the stored-activation step's: torch's
    BatchNorm is recomputed without tracking, other buffers are put back."""
    torch.manual_seed(2)

    def block():
        if kind == "other_buffer":
            return _Counting()
        bn = nn.BatchNorm1d(6, momentum=None if kind == "cumulative" else 0.1)
        return nn.Sequential(nn.Linear(6, 6), bn, nn.Tanh())

    st = OptStructure([block() for _ in range(4)], "hb", beta=(1.0, -1.0), invertible=True).double()
    if kind == "eval_batchnorm":
        for m in st.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()
                m.running_mean.normal_()  # used (not updated) in eval mode
    start = {k: v.clone() for k, v in st.state_dict().items()}
    x0 = torch.randn(5, 6, dtype=D64, requires_grad=True)
    results = []
    for flag in (True, False):
        st.load_state_dict(start)
        st.invertible = flag
        st.zero_grad()
        x0.grad = None
        (st(x0) ** 2).sum().backward()
        results.append(({k: v.clone() for k, v in st.state_dict().items()}, x0.grad.clone(),
                         [p.grad.clone() for p in st.parameters()]))
    (buf_a, gx_a, gp_a), (buf_b, gx_b, gp_b) = results
    assert buf_a.keys() == buf_b.keys()
    for k in buf_b:
        torch.testing.assert_close(buf_a[k], buf_b[k], rtol=0, atol=1e-12)
    moved = [k for k in buf_b if not torch.equal(buf_b[k], start[k])]
    assert bool(moved) == (kind != "eval_batchnorm")
    torch.testing.assert_close(gx_a, gx_b, rtol=1e-5, atol=1e-9)
    for a, b in zip(gp_a, gp_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9)
    # the flags the recomputation switches are back
    assert all(m.track_running_stats for m in st.modules() if isinstance(m, nn.BatchNorm1d))


class _AddParam(nn.Module):
    """``T(x) = tanh(x) + p`` with ``p`` of x's shape: autograd may hand back the incoming
    gradient itself as ``p``'s gradient."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.randn(3, 6, dtype=D64))

    def forward(self, x):
        return torch.tanh(x) + self.p


def test_shared_transform_gradients_sum_without_touching_autograd_tensors():
    torch.manual_seed(3)
    st = OptStructure(_AddParam(), "hb", depth=4, beta=(1.0, -1.0), invertible=True)
    x0 = torch.randn(3, 6, dtype=D64, requires_grad=True)
    seen = []  # per way: the gradient handed to the structure, and a copy of it

    def loss(out):
        out.register_hook(lambda g: seen.append((g, g.clone())))
        return (out ** 3).sum()

    (_, (gx_a,), gp_a), (_, (gx_b,), gp_b) = _both_ways(st, x0, loss)
    assert len(seen) == 2 and all(torch.equal(*s) for s in seen)  # the backward did not write into it
    for a, b in zip([gx_a, *gp_a], [gx_b, *gp_b]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


class _AddScale(nn.Module):
    """``T(x) = (x + p) / 2``: autograd hands the same tensor back as the gradient of ``x`` and
    of ``p`` (and may return ``p`` itself from ``T`` when scaled by one)."""

    def __init__(self, scale=0.5):
        super().__init__()
        self.p = nn.Parameter(torch.randn(3, 6, dtype=D64))
        self.scale = scale

    def forward(self, x):
        return (x + self.p) * self.scale


@pytest.mark.parametrize("shared", [False, True])
def test_input_and_parameter_gradients_that_are_one_tensor_stay_apart(shared):
    torch.manual_seed(4)
    T = _AddScale() if shared else [_AddScale() for _ in range(4)]
    st = OptStructure(T, "hb", depth=4, beta=(1.0, -1.0), invertible=True)
    x0 = torch.randn(3, 6, dtype=D64, requires_grad=True)
    (_, gx_a, gp_a), (_, gx_b, gp_b) = _both_ways(st, x0, lambda out: torch.sin(out).sum())
    for a, b in zip(gx_a + gp_a, gx_b + gp_b):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


class _ReturnsP(nn.Module):
    """A transform that ignores its input and returns its parameter itself."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.randn(3, 6, dtype=D64))

    def forward(self, x):
        return self.p


def test_a_transform_returning_its_parameter_leaves_it_unchanged():
    torch.manual_seed(5)
    st = OptStructure([_ReturnsP(), _AddScale(), _ReturnsP()], "hb", beta=(1.0, -1.0),
                      invertible=True)
    keep = [p.detach().clone() for p in st.parameters()]
    x0 = torch.randn(3, 6, dtype=D64, requires_grad=True)
    res = []
    for flag in (True, False):
        st.invertible = flag
        st.zero_grad()
        x0.grad = None
        out = st(x0)
        torch.sin(out).sum().backward()
        res.append([out.detach(), x0.grad.clone()] + [p.grad.clone() for p in st.parameters()])
        assert all(torch.equal(p, q) for p, q in zip(st.parameters(), keep))
    for a, b in zip(*res):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
