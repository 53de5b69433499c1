"""dataset_distillation: distillation gradients against finite differences, memory, batches, and
one small end-to-end run of each experiment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from initlab.studies.dataset_distillation import distillation, experiment, learner

F64 = torch.float64


def _fd_grad(f, x: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """Central finite differences of the scalar f at x (float64)."""
    grad = torch.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = h
        grad.view(-1)[i] = (f((flat + e).view_as(x)) - f((flat - e).view_as(x))) / (2 * h)
    return grad


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(11)
    w0, a = learner.symmetric_init(rng, 16, 5)
    b = learner.biases(rng, 16)
    x = torch.from_numpy(rng.standard_normal((300, 5)))
    y = (x[:, 0] ** 2 - 1) + x[:, 0] * x[:, 1]
    g = learner.first_layer_gradient(w0, a, x, y)
    return w0, a, b, x, y, g


def test_stage_one_gradient_matches_finite_differences(net):
    w0, a, _, _, _, g = net
    x1 = 0.3 * torch.randn(3, 5, dtype=F64, generator=torch.Generator().manual_seed(0))

    def loss(x):
        return distillation.cosine_loss(distillation.smooth_gate_gradient(w0, a, x), g)

    x = x1.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(loss(x), x)
    assert torch.allclose(auto, _fd_grad(lambda v: float(loss(v)), x1), rtol=1e-5, atol=1e-8)


def test_stage_two_gradients_match_finite_differences(net):
    w0, a, b, x, y, g = net
    w1 = learner.first_layer_step(w0, a, x, y)
    gen = torch.Generator().manual_seed(1)
    x2 = torch.randn(4, 5, dtype=F64, generator=gen)
    y2 = torch.randn(4, dtype=F64, generator=gen)
    phi_b, y_b = learner.features(w1, b, x[:64]), y[:64]

    def loss(xx, yy):
        return distillation.stage_two_loss(w1, b, xx, yy, phi_b, y_b, 1e-4)

    xv, yv = x2.clone().requires_grad_(True), y2.clone().requires_grad_(True)
    gx, gy = torch.autograd.grad(loss(xv, yv), (xv, yv))
    assert torch.allclose(gx, _fd_grad(lambda v: float(loss(v, y2)), x2), rtol=1e-4, atol=1e-7)
    assert torch.allclose(gy, _fd_grad(lambda v: float(loss(x2, v)), y2), rtol=1e-4, atol=1e-7)


def test_one_step_is_minus_the_finite_difference_gradient(net):
    w0, a, _, _, _, g = net
    x1 = 1e-3 * torch.randn(2, 5, dtype=F64, generator=torch.Generator().manual_seed(2))

    def loss(x):
        gt = distillation.smooth_gate_gradient(w0, a, x, scale=1e-3)
        return float(((gt - g) ** 2).sum())

    step = distillation.one_step(w0, a, g, x1, scale=1e-3)
    assert torch.allclose(step, -_fd_grad(loss, x1, h=1e-9), rtol=1e-4, atol=1e-9)


def test_smooth_gate_tends_to_the_hard_gate(net):
    w0, a, *_ = net
    x1 = torch.randn(3, 5, dtype=F64, generator=torch.Generator().manual_seed(3))
    s1 = torch.cat([x1, -x1])
    hard = learner.first_layer_gradient(w0, a, s1, torch.ones(6, dtype=F64))
    smooth = distillation.smooth_gate_gradient(w0, a, x1, sharpness=1e6)
    assert torch.allclose(smooth, hard, atol=1e-10)


def test_the_mirrored_half_gives_the_same_loss(net):
    w0, a, _, _, _, g = net
    x1 = torch.randn(3, 5, dtype=F64, generator=torch.Generator().manual_seed(4))
    full = distillation.cosine_loss(distillation.smooth_gate_gradient(w0, a, x1), g)
    half = distillation.cosine_loss(
        distillation.smooth_gate_gradient(*distillation._unique_rows(w0, a, g)[:2], x1), g[:8]
    )
    assert float(full) == pytest.approx(float(half), rel=1e-12)


def test_distillation_lowers_both_losses(net):
    w0, a, b, x, y, g = net
    gen = torch.Generator().manual_seed(5)
    s1 = distillation.distill_stage_one(
        w0, a, g, 0.1 * torch.randn(2, 5, dtype=F64, generator=gen), steps=60
    )
    assert s1.final_loss < s1.losses[0]
    w1 = distillation.stage_one_first_layer(w0, a, s1.x1)
    batches = experiment.stage_two_batches(np.random.default_rng(0), 300, 60, 64)
    s2 = distillation.distill_stage_two(
        w1,
        b,
        torch.randn(4, 5, dtype=F64, generator=gen),
        torch.randn(4, dtype=F64, generator=gen),
        x,
        y,
        batches,
    )
    assert s2.losses[-10:].mean() < s2.losses[:10].mean()


def test_memory_of_the_quick_cell():
    assert distillation.memory_dd_floats(16, 32, 64) == 2592
    assert distillation.memory_real_floats(40_000, 64) == 2_600_000
    assert distillation.equal_memory_count(16, 32, 64) == 39
    d = np.array([32, 64, 128, 256])
    m = [distillation.memory_dd_floats(16, 32, int(v)) for v in d]
    assert np.allclose(np.diff(m) / np.diff(d), 8 + 32)  # exactly linear in d


def test_stage_two_batches_are_fresh_sorted_and_cover_each_epoch():
    b = experiment.stage_two_batches(np.random.default_rng(0), 100, 7, 30)
    assert b.shape == (7, 30)
    assert all(len(set(row)) == 30 and np.all(np.diff(row) > 0) for row in b)
    assert len(set(b[:3].ravel())) == 90  # the 3 batches of an epoch are disjoint
    assert experiment.stage_two_batches(np.random.default_rng(0), 10, 3, 64).shape == (3, 10)


SMALL = dict(
    L=32,
    d=8,
    r=2,
    m1=4,
    m2=6,
    n=600,
    n_test=400,
    steps1=15,
    steps2=15,
    lr1=0.05,
    lr2=0.02,
    batch=128,
    lam=1e-3,
    jitter=1e-4,
    sharpness=20.0,
    baselines=True,
    subset_k=[48, 10_000],
)
KEY = ("dataset_distillation", 0, "distill")


def test_distill_run_follows_the_contract_and_is_deterministic():
    ds = experiment.run("distill", {**SMALL, "init": "gauss0.1"}, [0, 1], key=KEY)
    again = experiment.run("distill", {**SMALL, "init": "gauss0.1"}, [0, 1], key=KEY)
    assert ds["seed"].values.tolist() == [0, 1]
    assert set(ds.dims) == {"seed", "k", "step1", "step2"}
    # equal memory: floor((4/2 * 8 + 6 * 9) / 9) = 7; 10k > n is dropped
    assert ds["k"].values.tolist() == [7, 48]
    for name, da in ds.data_vars.items():
        assert np.all(np.isfinite(da.values)), name
        if not name.endswith("_seconds"):  # timings differ; every number must not
            assert np.array_equal(da.values, again[name].values), name
    assert int(ds["memory_dd_floats"]) == 2 * 8 + 6 * 9
    assert float(ds["chance_energy"]) == 2 / 8


def test_keys_share_data_across_experiments_and_inits():
    """The undistilled learner of every Gaussian arm is the same (brief §2.4); the experiment name
    does not enter the streams."""
    small = {**SMALL, "baselines": False, "steps1": 2, "steps2": 2}
    a = experiment.run("distill", {**small, "init": "gauss0.1"}, [0], key=KEY)
    b = experiment.run(
        "distill", {**small, "init": "gauss1.0"}, [0], key=("dataset_distillation", 0, "other")
    )
    assert a["undistilled_relmse"].item() == pytest.approx(b["undistilled_relmse"].item(), rel=1e-9)


def test_onestep_run():
    ds = experiment.run(
        "onestep",
        {
            "L": 32,
            "r": 2,
            "m1": 4,
            "n": 500,
            "sharpness": 20.0,
            "d_grid": [8, 16],
            "init": "gauss0.001",
        },
        [0],
        key=("dataset_distillation", 0, "onestep"),
    )
    assert ds["onestep_x_energy"].dims == ("seed", "d")
    assert np.all((ds["onestep_x_energy"] > 0) & (ds["onestep_x_energy"] <= 1))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"r": 9}, "exceeds the input dimension"),
        ({"m1": 0}, "empty distilled set"),
        ({"init": "uniform"}, "unknown init"),
    ],
)
def test_bad_points_are_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        experiment.run("distill", {**SMALL, "init": "gauss0.1", **change}, [0], key=KEY)
