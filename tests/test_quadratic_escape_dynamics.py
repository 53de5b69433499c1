"""quadratic_escape: the one-pass SGD simulator, the overlap ODEs, the conserved polar factor and
the experiment contract (brief §2, §3)."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.studies.quadratic_escape import experiment, implicit_bias, model, ode, sgd
from initlab.studies.quadratic_escape.initialization import (
    anisotropic_overlaps,
    gaussian_students,
    haar_orthogonal,
    isotropic_overlaps,
)

BASE = dict(pstar=2, a="1/p", b="1/pstar", sigma=0.0, ode_method="LSODA", rtol=1e-9, atol=1e-12)


def _batch(S=2, p=4, pstar=2, N=60, seed=0):
    rng = np.random.default_rng(seed)
    Wstar = np.stack([model.teacher(rng, pstar, N) for _ in range(S)])
    W0 = np.stack([gaussian_students(rng, p, N, 1.0) for _ in range(S)])
    return W0, Wstar


@pytest.mark.parametrize("block", [1, 7, 32])
def test_blocked_simulator_equals_the_plain_sgd_loop(block):
    W0, Wstar = _batch()
    kw = dict(a=0.25, b=0.5, gamma=0.1)
    trace = sgd.one_pass_sgd(
        W0,
        Wstar,
        steps=300,
        record_every=50,
        block=block,
        sample_rngs=[np.random.default_rng(10 + s) for s in range(2)],
        **kw,
    )
    rngs = [np.random.default_rng(10 + s) for s in range(2)]
    W = W0.copy()
    for step in range(1, 301):
        x = np.stack([g.standard_normal(W.shape[-1]) for g in rngs])
        W = sgd.sgd_step(W, Wstar, x, **kw)
        if step % 50 == 0:
            Q, M, _ = model.overlaps(W, Wstar)
            np.testing.assert_allclose(trace.Q[:, step // 50], Q, atol=1e-12)
            np.testing.assert_allclose(trace.M[:, step // 50], M, atol=1e-12)
    np.testing.assert_array_equal(trace.steps, np.arange(7) * 50)
    assert not trace.diverged.any()


def test_label_noise_uses_its_own_stream():
    W0, Wstar = _batch(S=1)
    kw = dict(a=0.25, b=0.5, gamma=0.1, steps=64, record_every=64)
    clean = sgd.one_pass_sgd(W0, Wstar, sample_rngs=[np.random.default_rng(1)], **kw)
    noisy = sgd.one_pass_sgd(
        W0,
        Wstar,
        sample_rngs=[np.random.default_rng(1)],
        sigma=0.5,
        noise_rngs=[np.random.default_rng(2)],
        **kw,
    )
    assert not np.allclose(clean.Q[:, -1], noisy.Q[:, -1])
    with pytest.raises(ValueError, match="noise generator"):
        sgd.one_pass_sgd(W0, Wstar, sample_rngs=[np.random.default_rng(1)], sigma=0.5, **kw)


def test_a_diverging_seed_is_flagged_and_recorded_as_nan_without_touching_the_others():
    W0, Wstar = _batch(S=2)
    W0[1] *= 6.0  # q0 = 36: the gamma^2 term wins over the restoring drift, the norm blows up
    trace = sgd.one_pass_sgd(
        W0,
        Wstar,
        a=0.25,
        b=0.5,
        gamma=0.1,
        steps=400,
        record_every=20,
        sample_rngs=[np.random.default_rng(s) for s in range(2)],
    )
    assert trace.diverged.tolist() == [False, True]
    assert np.isnan(trace.eps[1, -1]) and np.isfinite(trace.eps[0]).all()


def _sgd_params(**over):
    return {
        **BASE,
        "init": "gaussian-q1",
        "N": 80,
        "p": 4,
        "gamma": 0.1,
        "t_max": 6,
        "records_per_unit": 2,
        "block": 16,
        **over,
    }


def test_a_seed_does_not_depend_on_the_seeds_beside_it():
    key = ("quadratic_escape", 0, "sgd_vs_ode")
    both = experiment.run("sgd_vs_ode", _sgd_params(), [0, 1], key=key, log=lambda m: None)
    alone = experiment.run("sgd_vs_ode", _sgd_params(), [1], key=key, log=lambda m: None)
    np.testing.assert_allclose(both["eps"].sel(seed=1), alone["eps"].sel(seed=1), atol=1e-12)
    again = experiment.run("sgd_vs_ode", _sgd_params(), [0, 1], key=key, log=lambda m: None)
    np.testing.assert_array_equal(both["eps"].values, again["eps"].values)


def test_sgd_experiment_follows_the_run_contract():
    ds = experiment.run("sgd_vs_ode", _sgd_params(), [0, 1], key=("k",), log=lambda m: None)
    assert ds.sizes["seed"] == 2 and ds.sizes["source"] == 3
    assert not {"init", "N", "p", "gamma"} & (set(ds.dims) | set(ds.coords) | set(ds.data_vars))
    np.testing.assert_allclose(ds["time"].values, np.arange(13) / 2)
    # the idealised ODE start (Q0 = q0 I) keeps the polar factor; the exact one drifts a little
    dev = ds["polar_dev"].isel(time=-1)
    assert float(dev.sel(source="ode-isotropic").max()) < 1e-8
    assert float(dev.sel(source="ode-empirical").min()) > 1e-6


@pytest.mark.parametrize("second_order", [True, False])
def test_polar_factor_is_conserved_to_1e8_for_isotropic_q0(second_order):
    rng = np.random.default_rng(7)
    Q0, M0 = isotropic_overlaps(rng.standard_normal((4, 2)), 1e4, 1.0, 1.0)
    sol = ode.solve(
        Q0, M0, np.linspace(0, 300, 601), a=0.25, b=0.5, gamma=0.1, second_order=second_order
    )
    drift = implicit_bias.polar_deviation(sol.M, implicit_bias.polar_factor(M0))
    assert drift.max() < 1e-8
    # ... and the dynamics ends at the closest zero-loss solution sqrt(b/a) P(M0)
    target = implicit_bias.closest_solution(M0, a=0.25, b=0.5)
    assert np.linalg.norm(sol.M[-1] - target) / np.linalg.norm(target) < 0.01
    assert sol.eps[-1] < 1e-3 < sol.eps[0]


def test_anisotropic_q0_breaks_the_conservation():
    rng = np.random.default_rng(8)
    G, O = rng.standard_normal((4, 2)), haar_orthogonal(rng, 4)
    Q0, M0 = anisotropic_overlaps(G, O, 1e4, 1.0, 1.0, 0.3)
    sol = ode.solve(Q0, M0, np.linspace(0, 200, 201), a=0.25, b=0.5, gamma=0.1)
    assert implicit_bias.polar_deviation(sol.M[-1], implicit_bias.polar_factor(M0)) > 1e-3


def test_closest_solution_maximises_the_alignment_with_the_init():
    rng = np.random.default_rng(9)
    M0 = rng.standard_normal((5, 2))
    best = implicit_bias.alignment(implicit_bias.polar_factor(M0), M0)
    others = [
        implicit_bias.alignment(np.linalg.qr(rng.standard_normal((5, 2)))[0], M0)
        for _ in range(200)
    ]
    assert best >= max(others)
    baseline = implicit_bias.random_pairing_deviation(rng, 4, 2, 4000)
    assert baseline.mean() == pytest.approx(1.39, abs=0.02)
    assert np.sqrt(np.mean(baseline**2)) == pytest.approx(np.sqrt(2), abs=0.02)
    with pytest.raises(ValueError, match="p >= p"):
        implicit_bias.polar_factor(np.ones((1, 2)))


def test_t_half_from_the_event_agrees_with_the_dense_grid():
    rng = np.random.default_rng(10)
    Q0, M0 = isotropic_overlaps(rng.standard_normal((4, 2)), 1e3, 1.0, 1.0)
    times = np.linspace(0, 100, 2001)
    sol = ode.solve(Q0, M0, times, a=0.25, b=0.5, gamma=0.1)
    grid = ode.first_crossing(times, sol.eps, ode.half_plateau_threshold(4, 2, b=0.5))
    assert sol.t_half == pytest.approx(float(grid), abs=1e-3)
    assert np.isnan(ode.first_crossing(times, np.ones_like(times), 0.5))
    assert ode.first_crossing(np.arange(3.0), np.array([1.0, 0.0, -1.0]), 0.25) == pytest.approx(
        0.75
    )


def test_ode_blow_up_is_flagged():
    sol = ode.solve(
        8.0 * np.eye(4), 0.1 * np.ones((4, 2)), np.linspace(0, 20, 41), a=0.25, b=0.5, gamma=0.9
    )
    assert sol.diverged and np.isnan(sol.eps[-1])


def test_escape_time_and_init_axis_experiments():
    key = ("quadratic_escape", 0, "x")
    et = experiment.run(
        "escape_time",
        {
            **BASE,
            "init": "isotropic",
            "p": 4,
            "ode": "second-order",
            "gamma": 0.1,
            "N_grid": [100, 10000],
            "t_max": 100,
            "points_per_unit": 5,
        },
        [0, 1],
        key=key,
        log=lambda m: None,
    )
    slope = float((et["t_half"].sel(N=10000) - et["t_half"].sel(N=100)).mean()) / np.log(100)
    assert slope == pytest.approx(0.5 / float(et["rate"]), rel=0.05)
    ia = experiment.run(
        "init_axis",
        {
            **BASE,
            "init": "isotropic-rho3",
            "N": 10000,
            "p": 4,
            "gamma": 0.1,
            "ode_variants": ["second-order", "gradient-flow"],
            "t_max": 60,
            "points_per_unit": 5,
            "store_every": 5,
        },
        [0],
        key=key,
        log=lambda m: None,
    )
    assert list(ia["ode"].values) == ["second-order", "gradient-flow"]
    assert ia.sizes["time"] == 61 and float(ia["rho"]) == 3.0
    assert float(ia["polar_dev_max"].max()) < 1e-8
