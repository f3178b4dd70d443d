"""The shared training loop: optimisers, proximal steps, backtracking, early stopping, seeding."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from glassnet.penalties import L1
from glassnet.training import History, fit


def _linear_problem(n=200, p=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=torch.float64)
    w = torch.zeros(p, dtype=torch.float64)
    w[:3] = torch.tensor([2.0, -1.5, 1.0], dtype=torch.float64)
    y = X @ w + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    return X, y


def _mse(model, X, y):
    return 0.5 * ((model(X).squeeze(-1) - y) ** 2).mean()


def test_proximal_gradient_with_l1_solves_the_lasso():
    X, y = _linear_problem()
    model = torch.nn.Linear(10, 1, bias=False).double()
    alpha = 0.1
    hist = fit(model, _mse, (X, y), optimizer="sgd", lr=0.5, max_epochs=2000, prox=[(model.weight, L1(alpha))], seed=0)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X.numpy(), y.numpy()).coef_
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), ref, atol=1e-6)
    assert np.all(model.weight.detach().numpy().ravel()[ref == 0] == 0)  # exact zeros from the prox
    assert hist.n_epochs == 2000


def test_backtracking_rescues_a_too_large_step():
    X, y = _linear_problem()
    model = torch.nn.Linear(10, 1, bias=False).double()
    hist = fit(model, _mse, (X, y), optimizer="sgd", lr=50.0, max_epochs=200, backtrack=True, seed=0)
    assert hist.lr[-1] < 50.0  # the step was shrunk
    assert all(b <= a + 1e-12 for a, b in zip(hist.train_loss, hist.train_loss[1:]))
    assert hist.train_loss[-1] < 0.01
    with pytest.raises(ValueError, match="full-batch"):
        fit(model, _mse, (X, y), backtrack=True, batch_size=10)


@pytest.mark.parametrize("optimizer, batch_size", [("adam", 32), ("lbfgs", None), ("sgd", 50)])
def test_optimisers_and_minibatches_reduce_the_loss(optimizer, batch_size):
    X, y = _linear_problem()
    model = torch.nn.Linear(10, 1).double()
    lr = {"adam": 0.05, "lbfgs": 1.0, "sgd": 0.05}[optimizer]
    hist = fit(model, _mse, (X, y), optimizer=optimizer, lr=lr, max_epochs=30, batch_size=batch_size, seed=0)
    assert hist.train_loss[-1] < 0.1 * hist.train_loss[0]


def test_early_stopping_restores_the_best_state():
    X, y = _linear_problem(n=40, p=30)
    Xv, yv = _linear_problem(n=200, p=30, seed=1)
    model = torch.nn.Sequential(torch.nn.Linear(30, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1)).double()
    hist = fit(model, _mse, (X, y), val_data=(Xv, yv), optimizer="adam", lr=0.01, max_epochs=3000, patience=10, seed=0)
    assert hist.stopped_early and hist.n_epochs < 3000
    with torch.no_grad():
        final = float(_mse(model, Xv, yv))
    assert final == pytest.approx(min(hist.val_loss))
    assert hist.best_epoch == int(np.argmin(hist.val_loss))


def test_seeding_makes_training_reproducible():
    X, y = _linear_problem()

    def run(seed):
        torch.manual_seed(123)  # same init; the seed then drives the batch order
        model = torch.nn.Linear(10, 1).double()
        fit(model, _mse, (X, y), lr=0.01, max_epochs=3, batch_size=16, seed=seed)
        return model.weight.detach().clone()

    torch.testing.assert_close(run(7), run(7), rtol=0, atol=0)
    # the seed is used: another seed shuffles the batches differently, so the weights differ
    assert not torch.equal(run(7), run(8))


def test_projection_hook_keeps_a_constraint():
    X, y = _linear_problem()
    model = torch.nn.Linear(10, 1, bias=False).double()

    def unit_norm(m):
        m.weight.div_(m.weight.norm())

    fit(model, _mse, (X, y), lr=0.1, max_epochs=20, project=unit_norm, seed=0)
    assert float(model.weight.detach().norm()) == pytest.approx(1.0)


def test_bad_arguments_and_divergence_raise():
    X, y = _linear_problem()
    model = torch.nn.Linear(10, 1).double()
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, _mse, (X, y), optimizer="rmsprop")
    with pytest.raises(ValueError, match="same number of samples"):
        fit(model, _mse, (X, y[:5]))
    with pytest.raises(ValueError, match="lr"):
        fit(model, _mse, (X, y), lr=0)
    with pytest.raises(FloatingPointError, match="training loss"):
        fit(model, lambda m, a, b: torch.tensor(float("nan"), requires_grad=True), (X, y), max_epochs=2)


def test_history_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    h = History(train_loss=[3.0, 2.0, 1.0], val_loss=[3.5, 2.5, 2.6], best_epoch=1)
    ax = h.plot()
    assert len(ax.lines) == 3  # train, validation, best-epoch marker


def test_every_bad_argument_is_a_named_value_error():
    X, y = _linear_problem(n=50)
    model = torch.nn.Linear(10, 1).double()
    bad = [({"patience": 0}, "patience"), ({"patience": -1}, "patience"), ({"batch_size": 0}, "batch_size"),
           ({"batch_size": -5}, "batch_size"), ({"batch_size": True}, "batch_size"),
           ({"max_epochs": 2.5}, "max_epochs"), ({"max_epochs": "5"}, "max_epochs"),
           ({"lr": "0.1"}, "lr"), ({"lr": float("inf")}, "lr"),
           ({"backtrack": True, "backtrack_factor": 1.0}, "backtrack_factor"),
           ({"backtrack": True, "backtrack_factor": 0}, "backtrack_factor"),
           ({"val_data": (X, y), "val_fn": lambda m: 0.0}, "not both"),
           ({"val_data": (X, y[:10])}, "val_data"), ({"val_data": X}, "val_data"),
           ({"checkpoint": "/no/such/folder/ck.pt"}, "folder of checkpoint"),
           ({"lr_schedule": lambda e, n: -1.0}, "lr_schedule gave the factor -1.0"),
           ({"seed": 2**70}, "random_state must be in")]
    for kw, word in bad:
        with pytest.raises(ValueError, match=word):
            fit(model, _mse, (X, y), max_epochs=kw.pop("max_epochs", 3), **kw)
    with pytest.raises(ValueError, match="data has no samples"):
        fit(model, _mse, (X[:0], y[:0]))
    for out in (lambda m, a, b: (m(a).squeeze(-1) - b) ** 2, lambda m, a, b: 1.0):
        with pytest.raises(ValueError, match="loss_fn must return a scalar tensor"):
            fit(model, out, (X, y), max_epochs=2)
    with pytest.raises(FloatingPointError, match="validation loss became nan"):  # it used to stop silently
        fit(model, _mse, (X, y), val_fn=lambda m: float("nan"), patience=3, max_epochs=10)
    from glassnet.training import MultiStep, split_validation

    for args in (((0,),), ((-1,),), (0.5,), ((0.5,), -1.0)):
        with pytest.raises(ValueError, match="milestones|gamma"):
            MultiStep(*args)
    with pytest.raises(ValueError, match="stratify has 5 labels for 10 samples"):
        split_validation(10, 0.5, 0, np.arange(5))
    h = fit(torch.nn.Linear(10, 1).double(), _mse, (X, y), max_epochs=2, seed=np.random.default_rng(0))
    assert h.n_epochs == 2  # a numpy Generator seeds both generators (it used to raise a TypeError)


def test_epoch_loss_is_the_mean_over_samples_with_a_short_last_batch():
    """50 rows in batches of 48: the last batch of 2 used to count as much as the 48."""
    X, y = _linear_problem(n=50)
    model = torch.nn.Linear(10, 1).double()
    with torch.no_grad():
        full = float(_mse(model, X, y))
    h = fit(model, _mse, (X, y), optimizer="sgd", lr=1e-12, batch_size=48, max_epochs=1, seed=0)
    assert h.train_loss[0] == pytest.approx(full, rel=1e-9)


def test_converging_finishes_its_epoch_and_a_resumed_early_stop_restores_the_best(tmp_path):
    X, y = _linear_problem(n=60)
    Xv, yv = _linear_problem(n=30, seed=1)
    calls = []
    h = fit(torch.nn.Linear(10, 1).double(), _mse, (X, y), val_data=(Xv, yv), optimizer="sgd", lr=0.1,
            max_epochs=5000, converge_tol=1e-6, checkpoint=tmp_path / "c.pt", checkpoint_every=10**6,
            on_epoch_end=lambda e, hist: calls.append(e), seed=0)
    assert h.n_epochs < 5000 and len(h.val_loss) == h.n_epochs == len(calls)  # the last epoch too
    assert (tmp_path / "c.pt").is_file()
    # a run that stopped early: resuming trains nothing and puts the best parameters back
    kw = {"val_data": (Xv, yv), "patience": 3, "optimizer": "sgd", "lr": 0.5, "max_epochs": 200,
          "checkpoint": tmp_path / "e.pt", "seed": 0}
    done = torch.nn.Linear(10, 1).double()
    h1 = fit(done, _mse, (X, y), **kw)
    again = torch.nn.Linear(10, 1).double()
    h2 = fit(again, _mse, (X, y), resume=True, **kw)
    assert h1.stopped_early and h2.n_epochs == h1.n_epochs
    for p, q in zip(done.parameters(), again.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_resuming_a_converged_run_trains_no_further_and_a_partial_one_converges_as_the_whole(tmp_path):
    """A run stopped by ``converge_tol`` used to train on when resumed (the flag was not saved);
    a run interrupted before converging resumes with its last objective, so it stops at the same
    epoch with the same weights as the uninterrupted run; more saved epochs than ``max_epochs``
    is a ValueError (it returned the saved epochs)."""
    X, y = _linear_problem(n=60)
    kw = {"optimizer": "sgd", "lr": 0.1, "converge_tol": 1e-6, "seed": 0}
    whole = torch.nn.Linear(10, 1).double()
    torch.manual_seed(0)
    whole.reset_parameters()
    h = fit(whole, _mse, (X, y), max_epochs=5000, checkpoint=tmp_path / "w.pt", **kw)
    assert h.converged and h.n_epochs < 5000
    again = torch.nn.Linear(10, 1).double()
    h_again = fit(again, _mse, (X, y), max_epochs=5000, checkpoint=tmp_path / "w.pt", resume=True, **kw)
    assert h_again.n_epochs == h.n_epochs and h_again.converged
    # interrupted halfway (max_epochs), then resumed with the whole budget
    part = torch.nn.Linear(10, 1).double()
    torch.manual_seed(0)
    part.reset_parameters()
    h_part = fit(part, _mse, (X, y), max_epochs=h.n_epochs // 2, checkpoint=tmp_path / "p.pt", **kw)
    assert not h_part.converged
    h_rest = fit(part, _mse, (X, y), max_epochs=5000, checkpoint=tmp_path / "p.pt", resume=True, **kw)
    assert h_rest.n_epochs == h.n_epochs and h_rest.train_loss == h.train_loss
    for p, q in zip(whole.parameters(), part.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    with pytest.raises(ValueError, match=f"holds {h.n_epochs} epochs, more than max_epochs=10"):
        fit(torch.nn.Linear(10, 1).double(), _mse, (X, y), max_epochs=10, checkpoint=tmp_path / "w.pt",
            resume=True, **kw)
