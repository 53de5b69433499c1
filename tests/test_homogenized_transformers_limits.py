"""homogenized_transformers: the limit SDE, the deterministic ODE and the simplex reduction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab.studies.homogenized_transformers import limits, model, simplex, statistics
from initlab.studies.homogenized_transformers.initialization import equiangular, initial_tokens, uniform


def test_sde_step_has_the_gram_drift_and_quadratic_variation():
    """Itô: E[Delta rho]/dt -> Gram drift, Var[Delta rho]/dt -> d<M_ij>/dt, for one fixed C."""
    rng = np.random.default_rng(0)
    n, d, dt, paths = 5, 7, 1e-4, 40000
    x = uniform(rng, n, d)
    z = rng.standard_normal((2, 4000, d, d))
    c = limits.covariance(x, z[0], z[1], beta=1.0)
    xs = np.broadcast_to(x, (paths, n, d))
    y = limits.sde_step(xs, np.broadcast_to(c, (paths, n, n)), rng.standard_normal((paths, n, d)), dt)
    drho = y @ np.swapaxes(y, -1, -2) - x @ x.T
    iu = np.triu_indices(n, 1)
    drift = limits.gram_drift(c, x)[iu]
    qv = limits.gram_quadratic_variation(c, x)[iu]
    mean = drho.mean(axis=0)[iu] / dt
    var = drho.var(axis=0)[iu] / dt
    se = np.sqrt(qv / (paths * dt))
    assert np.all(np.abs(mean - drift) <= 5 * se + 0.02 * np.abs(drift).max())
    np.testing.assert_allclose(var, qv, rtol=0.05)


def test_beta0_simplex_ode_matches_the_brief():
    """T½ = 2.28 / 2.93 / 3.62 at d = 64 for n = 8 / 16 / 32 (brief §2.4)."""
    for n, want in ((8, 2.28), (16, 2.93), (32, 3.62)):
        _, th = simplex.simplex_ode(0.0, 64, simplex.PQTable.uniform_attention(n), np.linspace(0, 6, 61))
        assert th == pytest.approx(want, abs=0.01)
        assert th == pytest.approx(simplex.beta0_t_half(n, 64), rel=0.01)


def test_p_and_q_at_the_orthonormal_configuration():
    """At rho = 0, n = 16, d = 64: p ~ 1/n, q = 0.063 / 0.13 / 0.47 / 0.82 for beta = 0/1/3/10."""
    rng = np.random.default_rng(1)
    for beta, q_want in ((0.0, 0.0625), (1.0, 0.13), (3.0, 0.47), (10.0, 0.82)):
        p, q = simplex.pq_at(16, 64, beta, 0.0, rng, 400)
        assert p == pytest.approx(1 / 16, abs=0.01)
        assert q == pytest.approx(q_want, abs=0.02)


def test_regular_simplex_is_a_fixed_point_at_beta0():
    n, d = 16, 64
    rho0 = -1 / (n - 1)
    assert simplex.simplex_rhs(rho0, 1 / n, 1 / n, d) == pytest.approx(0.0, abs=1e-15)
    x = initial_tokens("simplex", n, d, [None] * 4)
    rng = np.random.default_rng(2)
    for _ in range(100):
        x = model.layer(x, rng.standard_normal((4, *model.normal_shape(n, d, 1, "direct"))), beta=0.0, eta=0.05)
    assert np.abs(statistics.rho_bar(x) - rho0).max() <= 1e-12


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_simplex_reduction_against_direct_simulation(beta):
    """Small case: n = 4 in d = 24 from orthonormal, eta = 0.05, 300 seeds: the mean rho_bar(t)
    stays within 3 SE + 0.02 of the simplex ODE up to T = 1."""
    n, d, seeds, eta = 4, 24, 300, 0.05
    dt = model.diffusion_dt(eta)
    stream = model.WeightStream([np.random.default_rng([s, 3]) for s in range(seeds)], model.normal_shape(n, d, 1, "fast"))
    x0 = initial_tokens("orthonormal", n, d, [None] * seeds)
    traj = model.simulate(
        x0, lambda x: model.layer(x, stream.draw(), beta=beta, eta=eta, sampler="fast"),
        layers=400, dt=dt, record_every=100,
    )  # fmt: skip
    table = (
        simplex.PQTable.uniform_attention(n)
        if beta == 0
        else simplex.pq_table(n, d, beta, 0.0, np.random.default_rng(4), points=12, draws=2000)
    )
    ode, _ = simplex.simplex_ode(0.0, d, table, traj.t)
    sim = traj.stats["rho_bar"].mean(axis=1)
    se = traj.stats["rho_bar"].std(axis=1, ddof=1) / math.sqrt(seeds)
    assert sim[-1] > 0.1  # the system did move
    assert np.all(np.abs(ode - sim) <= 3 * se + 0.02), (ode, sim, se)


def test_deterministic_ode_matches_particles_at_small_eta():
    """mu = 1, T = L eta mu = 0.5: the particle mean at eta = 0.01 is close to the Heun ODE."""
    n, d, seeds, eta = 6, 6, 64, 0.01
    x0 = initial_tokens("fixed", n, d, [None] * seeds, fixed_rng=np.random.default_rng(5))
    stream = model.WeightStream([np.random.default_rng([s, 6]) for s in range(seeds)], model.normal_shape(n, d, 1, "direct"))
    traj = model.simulate(
        x0, lambda x: model.layer(x, stream.draw(), beta=1.0, eta=eta, v_mean=1.0),
        layers=50, dt=model.drift_dt(eta), record_every=50,
    )  # fmt: skip
    ode = limits.simulate_ode(x0[0], np.random.default_rng(7), steps=50, dt=0.01, draws=512, beta=1.0)
    assert traj.stats["rho_bar"][-1].mean() == pytest.approx(ode.stats["rho_bar"][-1], abs=0.02)
    assert ode.stats["rho_bar"][-1] > ode.stats["rho_bar"][0] + 0.05  # the drift does cluster
    assert np.abs(np.linalg.norm(ode.x, axis=-1) - 1).max() <= 1e-12


def test_equiangular_factor_reproduces_the_gram():
    for rho in (-1 / 7, 0.0, 0.6, 0.995):
        f = simplex.equiangular_factor(8, rho)
        np.testing.assert_allclose(f @ f.T, (1 - rho) * np.eye(8) + rho, atol=1e-12)
    x = equiangular(8, 10, 0.6)
    np.testing.assert_allclose(statistics.rho_bar(x), 0.6)
