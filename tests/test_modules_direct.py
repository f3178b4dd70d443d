"""The torch modules and the training loop used directly, without the estimators: bad
arguments and inputs are named errors, never a silently different computation."""

import warnings

import pytest
import torch

from glassnet.nn.dsrl import DSRLGraph, DSRLNet
from glassnet.nn.irls_admm import IRLSADMMNet, MultinomialIRLSADMMNet
from glassnet.nn.matnet import MultimodalMatNetAutoencoder
from glassnet.nn.spinn import SPINN, IntegrativeSPINNNet
from glassnet.training import fit

D64 = torch.float64


def test_integrative_net_checks_the_data_set_index_against_x():
    """A (1, n, p) x, one row for n indices or an index out of range ran silently (every row
    from sample 0, or as the last data set)."""
    net = IntegrativeSPINNNet(7, 2, hidden=(5,))
    x, m = torch.randn(4, 7), torch.tensor([0, 1, 0, 1])
    assert net(x, m).shape == (4, 1)
    for bad in ((x.unsqueeze(0), m), (x[:1], m), (x, m.float())):
        with pytest.raises(ValueError, match="integer data-set indices"):
            net(*bad)
    with pytest.raises(ValueError, match=r"lie in 0\.\.1"):
        net(x, torch.full((4,), -1))


@pytest.mark.parametrize("kw", [{"hidden": 5}, {"n_features": 2.5}, {"hidden": (2.5,)},
                                {"hidden": (0,)}])
def test_spinn_sizes_are_positive_integers(kw):
    with pytest.raises(ValueError, match="hidden"):
        SPINN(**{"n_features": 7, **kw})


def test_multinomial_net_takes_one_hot_labels_of_its_dtype():
    """Soft or scaled labels passed the shape check and changed beta (by 15.8)."""
    net = MultinomialIRLSADMMNet(5, 3, F=1.0, lam=0.1)
    Phi = torch.randn(30, 5, dtype=D64)
    Y = torch.eye(3, dtype=D64)[torch.arange(30) % 3]
    net(Phi, Y)
    with pytest.raises(ValueError, match="one-hot"):
        net(Phi, 2 * Y)
    with pytest.raises(ValueError, match="float32 but the net is torch.float64"):
        net(Phi.float(), Y)
    with pytest.raises(ValueError, match="n_classes"):
        MultinomialIRLSADMMNet(5, 2.5)


def test_irls_net_refuses_non_finite_settings_and_out_of_range_columns():
    for kw in ({"rho": float("nan")}, {"lam": float("nan")}, {"F": float("inf")}, {"t": 0.0},
               {"weight_floor": -1.0}):
        with pytest.raises(ValueError, match="finite"):
            IRLSADMMNet(3, **kw)
    net = IRLSADMMNet(3)
    with pytest.raises(ValueError, match="columns"):
        net(torch.randn(8, 2, dtype=D64), columns=[-1, 0])
    with pytest.raises(ValueError, match="float32"):
        net(torch.randn(8, 3))


def test_dsrl_threshold_keeps_nan_and_the_net_takes_four_theta_values():
    """NaN entries came out as 0 (sign(nan) = 0) and +-inf as 0 a layer later; a 3-value theta
    took a default for b2 silently."""
    out = DSRLNet(3, theta=(1.0, 1.0, 0.1, 0.2))(
        torch.tensor([0.5, float("nan"), float("inf"), 3.0], dtype=D64))
    assert torch.isfinite(out[[0, 3]]).all() and torch.isnan(out[1]) and not torch.isfinite(out[2])
    with pytest.raises(ValueError, match="4 values"):
        DSRLNet(2, theta=(1.0, 1.0, 0.5))
    with pytest.raises(ValueError, match="n_layers"):
        DSRLNet(2.7)
    with pytest.raises(ValueError, match="finite"):
        DSRLGraph(2, weights=[1.0, float("inf")])


def test_autoencoder_kl_penalty_needs_sigmoid_units():
    ae = MultimodalMatNetAutoencoder([(4, 4)], (3, 3), activation="tanh")
    assert float(ae.penalty(torch.rand(5, 3, 3), lam=0.1, beta=0.0).detach()) > 0
    with pytest.raises(ValueError, match="sigmoid"):
        ae.penalty(torch.rand(5, 3, 3), beta=1.0)


def _mse(m, X, y):
    return ((m(X) - y) ** 2).mean()


def test_fit_names_its_data_forms_and_options_it_cannot_honour():
    """One tensor was iterated as a loader of rows (a TypeError inside the loss); a list of
    batch tuples failed on '.shape'; L-BFGS dropped weight_decay silently; patience without
    validation did nothing, silently."""
    torch.manual_seed(0)
    X, y = torch.randn(20, 3), torch.randn(20, 1)
    net = torch.nn.Linear(3, 1)
    with pytest.raises(ValueError, match="one tensor"):
        fit(net, _mse, X, max_epochs=1)
    with pytest.raises(ValueError, match="lbfgs"):
        fit(net, _mse, (X, y), optimizer="lbfgs", weight_decay=1.0, max_epochs=1)
    with pytest.warns(UserWarning, match="patience has no effect"):
        fit(net, _mse, (X, y), max_epochs=2, patience=1)
    a, b = torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    b.load_state_dict(a.state_dict())
    batches = [(X[:10], y[:10]), (X[10:], y[10:])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(a, _mse, batches, optimizer="sgd", lr=0.1, max_epochs=3, seed=0)
        fit(b, _mse, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y),
                                                 batch_size=10), optimizer="sgd", lr=0.1,
            max_epochs=3, seed=0)
    torch.testing.assert_close(a.weight, b.weight)  # the list is the unshuffled loader


def test_modules_say_what_they_are():
    """repr printed 'IRLSADMMNet()' and a SPINN without its first layer."""
    from glassnet.nn.dsrl import DSRLThreshold
    from glassnet.nn.matnet import MatNet

    assert "n_classes=3" in repr(MultinomialIRLSADMMNet(5, 3))
    assert "k_max=3" in repr(IRLSADMMNet(5))
    assert "b2=2" in repr(DSRLThreshold())
    assert "W1=(10, 7)" in repr(SPINN(7))
    with pytest.raises(ValueError, match="unit_norm"):
        MatNet(input_shape=(6, 5), hidden_shapes=((4, 3),), unit_norm="no")
    with pytest.raises(ValueError, match="n_classes"):
        MatNet(input_shape=(6, 5), hidden_shapes=((4, 3),), n_classes=2.5)


def test_irls_nets_name_non_finite_designs_and_negative_weights():
    """Both surfaced as a Cholesky failure ('not positive-definite')."""
    net = IRLSADMMNet(3)
    X = torch.randn(8, 3, dtype=D64)
    bad = X.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        net(bad)
    with pytest.raises(ValueError, match="non-negative"):
        net(X, sample_weight=-torch.ones(8, dtype=D64))
    multi = MultinomialIRLSADMMNet(3, 3)
    with pytest.raises(ValueError, match="NaN or infinite"):
        multi(bad, torch.eye(3, dtype=D64)[torch.arange(8) % 3])
