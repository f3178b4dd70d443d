"""Registered algorithm-inspired networks: parameter counts, the special cases that make them
ResNet / DenseNet again, and forward + backward of every one of them."""

import re

import numpy as np
import pytest
import torch

from glassnet.nn.optnets import OPTNETS_MODELS, CifarResNet, DenseNet
from glassnet.registry import create_model, models


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name, count", [("resnet56", 853_018), ("resnet110", 1_727_962),
                                         ("densenet40", 1_059_298)])
def test_cifar_parameter_counts(name, count):
    assert n_params(create_model(name, num_classes=10)) == count


@pytest.mark.parametrize("name, tv_name, published", [("resnet34", "resnet34", 21_797_672),
                                                      ("densenet121", "densenet121", 7_978_856)])
def test_imagenet_parameter_counts_equal_torchvision(name, tv_name, published):
    """Compared with torchvision's model when torchvision imports; it cannot be installed next
    to this torch (2.13.0) here, so otherwise with the parameter counts torchvision publishes
    for its weights (ResNet34_Weights / DenseNet121_Weights "num_params")."""
    ours = n_params(create_model(name, num_classes=1000))
    try:
        import torchvision

        expected = n_params(getattr(torchvision.models, tv_name)(weights=None))
    except Exception:  # noqa: BLE001 - torchvision absent or built for another torch
        expected = published
    assert ours == expected
    # the algorithm-inspired variant: the same weights (+ one alpha per source and layer)
    variant = n_params(create_model(name.replace("resnet", "hbnet").replace("densenet", "agdnet")))
    extra = 0 if name == "resnet34" else sum(n * (n + 1) // 2 for n in (6, 12, 24, 16))
    assert variant == ours + extra


def test_hb_and_agd_variants_keep_their_baselines_parameters():
    for d in (20, 56, 110):
        assert n_params(create_model(f"hbnet{d}")) == n_params(create_model(f"resnet{d}"))
    for d in (40, 52):
        n = (d - 4) // 3
        alphas = 3 * n * (n + 1) // 2  # one alpha per source and layer
        assert n_params(create_model(f"agdnet{d}")) == n_params(create_model(f"densenet{d}")) + alphas


def test_hbnet_with_beta2_zero_is_resnet_and_differs_otherwise():
    torch.manual_seed(0)
    res = create_model("resnet20").eval()
    same = CifarResNet(20, beta=(1.0, 0.0)).eval()
    hb = create_model("hbnet20").eval()
    same.load_state_dict(res.state_dict())  # fixed coefficients are not in the state_dict
    hb.load_state_dict(res.state_dict())
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(same(x), res(x))
    assert not torch.allclose(hb(x), res(x))


def test_hbnet_first_block_of_a_stage_is_a_residual_block():
    """x_1 = relu(T_0(x_0) + S(x_0)) with S option A, then x_{-1} := S(x_0) for the second
    block: x_2 = relu(T_1(x_1) + x_1 - S(x_0))."""
    torch.manual_seed(0)
    net = CifarResNet(14, beta=(1.0, -1.0)).eval()
    stage = net.stages[1]  # 16 -> 32 channels, stride 2
    x0 = torch.randn(2, 16, 8, 8)
    s = torch.nn.functional.pad(x0[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8))
    x1 = torch.relu(stage.first(x0) + s)
    x2 = torch.relu(stage.hb.T[0](x1) + x1 - s)
    torch.testing.assert_close(stage(x0), x2)


def test_agdnet_with_beta_0_and_unit_alpha_is_densenet():
    torch.manual_seed(0)
    dense = DenseNet(16, growth=6).eval()
    agd0 = DenseNet(16, growth=6, agd=True, beta=0.0).eval()
    agd = DenseNet(16, growth=6, agd=True, beta=0.1).eval()
    missing = agd0.load_state_dict(dense.state_dict(), strict=False).missing_keys
    assert missing and all(k.endswith("alpha") for k in missing)
    agd.load_state_dict(dense.state_dict(), strict=False)
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(agd0(x), dense(x))
    assert not torch.allclose(agd(x), dense(x))
    # alpha scales each source's contribution exactly: alpha_j = 2 on one source == doubling
    # that source's slice of the convolution weight
    layer = agd0.blocks[0].layers[2]
    with torch.no_grad():
        layer.alpha[1] = 2.0
        ref = DenseNet(16, growth=6).eval()
        ref.load_state_dict(dense.state_dict())
        ref.blocks[0].layers[2].conv1.weight[:, 12:18] *= 2.0  # source 1 = channels 12..17
    torch.testing.assert_close(agd0(x), ref(x))


def test_agdnet_momentum_term_is_eq21():
    """Layer m + 1 adds beta (z_m - sum_j h_{m,j} z_j) over the block's growth outputs."""
    from glassnet.nn.optnets import nesterov_h

    torch.manual_seed(0)
    net = DenseNet(13, growth=4, agd=True, beta=0.1).eval()  # 3 layers per block
    block = net.blocks[0]
    x = torch.randn(2, 8, 6, 6)
    outs, cat = [], x
    H = nesterov_h(3)
    for m, layer in enumerate(block.layers):
        new = layer(cat)
        if m >= 1:
            mom = outs[-1] - sum(H[m - 1][j] * outs[j] for j in range(m))
            new = new + 0.1 * mom
        outs.append(new)
        cat = torch.cat([cat, new], 1)
    torch.testing.assert_close(block(x), cat)


def test_registry_holds_the_family():
    assert set(OPTNETS_MODELS) <= set(models())
    with pytest.raises(ValueError, match="6n"):
        CifarResNet(21)
    with pytest.raises(ValueError, match="3n"):
        DenseNet(41)
    for name in OPTNETS_MODELS:  # a head without classes, a stem without channels
        for bad in ({"num_classes": 0}, {"in_chans": 0}, {"num_classes": 2.5}):
            with pytest.raises(ValueError, match=f"{next(iter(bad))} must be a positive int"):
                create_model(name, **bad)
    assert create_model("hbnet20", num_classes=np.int64(3))(torch.zeros(2, 3, 16, 16)).shape == (2, 3)


BIG = ("resnet34", "hbnet34", "densenet121", "agdnet121")


@pytest.mark.parametrize("name", [n if n not in BIG else pytest.param(n, marks=pytest.mark.slow)
                                  for n in OPTNETS_MODELS])
def test_every_optnets_model_trains_one_step(name):
    """Forward, backward and one SGD step on a small batch (ImageNet layouts on 32x32; those
    are slow-marked here because tests/test_common.py already runs their forward and backward
    from the registry's example in the default suite)."""
    torch.manual_seed(0)
    big = name in ("resnet34", "hbnet34", "densenet121", "agdnet121")
    m = create_model(name, num_classes=5, in_chans=1)
    x = torch.randn(4, 1, 32 if big else 12, 32 if big else 12)
    y = torch.tensor([0, 1, 2, 3])
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)
    before = [p.detach().clone() for p in m.parameters()]
    opt.step()
    assert any(not torch.equal(a, p) for a, p in zip(before, m.parameters())), "the step moved nothing"
    assert m(x).shape == (4, 5)


def test_create_model_names_a_misspelt_argument():
    import glassnet

    for name in ("resnet20", "matnet"):
        with pytest.raises(ValueError, match=rf"create_model\('{name}'\).*unexpected keyword argument 'bogus'"):
            glassnet.create_model(name, bogus=1)


def test_registered_names_refuse_what_they_fix_and_sizes_below_one():
    """create_model("hbnet20", depth=56) was a TypeError ("multiple values"); growth=0 failed
    in conv2d and growth=-1 with "negative dimension"."""
    for name, kw, fixed in [("hbnet20", {"depth": 56}, "depth=20"),
                            ("hbnet20", {"beta": (1, -0.5)}, "beta=(1.0, -1.0)"),
                            ("agdnet40", {"agd": False}, "agd=True"),
                            ("resnet34", {"depth": 18}, "depth=34")]:
        with pytest.raises(ValueError, match=re.escape(f"{name} fixes {fixed}")):
            create_model(name, **kw)
    for name in ("densenet40", "agdnet121"):
        for bad in (0, -1, 2.0, True):
            with pytest.raises(ValueError, match=f"growth must be a positive int.*got {bad}"):
                create_model(name, growth=bad)
    for cls, depth in ((CifarResNet, 20.0), (DenseNet, 10.0), (CifarResNet, 0)):
        with pytest.raises(ValueError, match="depth must be a positive int"):
            cls(depth)
    assert create_model("densenet40", growth=2, num_classes=3)(torch.zeros(2, 3, 8, 8)).shape == (2, 3)
