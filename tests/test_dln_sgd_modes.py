"""dln_sgd: the aligned-balanced 1-D models, gradient flow and the exact stationary density."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import trapezoid

from initlab.studies.dln_sgd import experiment, modes, observables, stationary

L, SIGMA, ETA = 3, 1.0, 0.004


@pytest.mark.parametrize("s", [3.0, 1.0])
def test_exact_density_normalises_and_is_close_to_boltzmann(s):
    p = stationary.exact_density(s, L, eta=ETA, batch=1, sigma=SIGMA)
    assert trapezoid(p.pdf, p.u) == pytest.approx(1.0, abs=1e-12)
    assert p.cdf[0] == 0.0 and p.cdf[-1] == pytest.approx(1.0)
    assert np.all(np.diff(p.cdf) >= 0)
    # the mass is well inside [0.2 s, 1.8 s] (the upper tail is heavier than Gaussian, since the
    # noise grows with (s - u)^2), so truncating the grid loses nothing measurable
    assert p.pdf[0] < 1e-8 * p.pdf.max() and p.pdf[-1] < 1e-8 * p.pdf.max()
    tau = stationary.boltzmann_temperature(s, L, eta=ETA, batch=1, sigma=SIGMA)
    # Boltzmann is the small-temperature limit: the exact variance exceeds tau by 5 % at s = 3
    assert p.var == pytest.approx(tau, rel=0.08)
    assert abs(p.mean - s) < 0.1 * np.sqrt(tau)  # the Ito term shifts the mean a little


def test_exact_density_needs_label_noise():
    with pytest.raises(ValueError, match="point mass"):
        stationary.exact_density(1.0, L, eta=ETA, batch=1, sigma=0.0)


@pytest.mark.parametrize("model", ["em", "sgd"])
def test_stationary_density_matches_a_long_simulation(model):
    """4000 chains of the mode s = 2 from a = s^(1/L), burnt in for t = 6 (about 30 relaxation
    times), then pooled over 6 snapshots 1 time unit apart: variance within 5 % of the exact
    density's (SGD's O(eta) discretisation bias is below 2 % here) and a KS test on one snapshot."""
    s, chains = 2.0, 4000
    rng = np.random.default_rng(1)
    a0 = np.full(chains, s ** (1 / L))
    snaps = [int(round(t / ETA)) for t in (6, 7, 8, 9, 10, 11)]
    out, _, div = modes.simulate(
        a0,
        s,
        L,
        rng,
        model=model,
        eta=ETA,
        batch=1,
        sigma=SIGMA,
        n_steps=snaps[-1],
        snapshot_steps=snaps,
    )
    assert not div.any()
    p = stationary.exact_density(s, L, eta=ETA, batch=1, sigma=SIGMA)
    assert out.var() == pytest.approx(p.var, rel=0.05)
    assert out.mean() == pytest.approx(p.mean, abs=3 * np.sqrt(p.var / out.size) + 1e-3)
    assert stats.kstest(out[0], p.cdf_at).pvalue > 1e-3


def test_scalar_sgd_chi_square_step_has_the_law_of_b_sample_pairs():
    """One step from a fixed a: the chi-square shortcut has the mean and variance of the explicit
    (1/B) sum_b [(a^L - s) xi_b^2 - eps_b xi_b] update."""
    a, s, eta, batch, n = 1.1, 2.0, 0.01, 3, 400_000
    rng = np.random.default_rng(2)
    new = modes.scalar_sgd(np.full(n, a), s, L, rng, eta=eta, batch=batch, sigma=SIGMA)
    xi, eps = rng.standard_normal((2, n, batch))
    eps *= SIGMA
    explicit = a - eta * a ** (L - 1) * np.mean((a**L - s) * xi**2 - eps * xi, axis=1)
    assert new.mean() == pytest.approx(explicit.mean(), abs=4 * explicit.std() / np.sqrt(n))
    assert new.var() == pytest.approx(explicit.var(), rel=0.02)


def test_gradient_flow_closed_form_and_learning_times():
    t = np.linspace(0, 5, 11)
    u0, s = 1e-3, 2.0
    closed = modes.gf_solution(t, u0, s, 2)
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _, u: 2 * u * (s - u), (0, 5), [u0], t_eval=t, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(closed, sol.y[0], rtol=1e-6)
    # L = 2: (ln 9 + ln((s - u0)/u0)) / (2s) exactly
    t_l2 = modes.gf_learning_time(u0, s, 2)
    assert t_l2 == pytest.approx((np.log(9) + np.log((s - u0) / u0)) / (2 * s), rel=1e-12)
    assert modes.gf_solution(np.array([t_l2]), u0, s, 2)[0] == pytest.approx(0.9 * s, rel=1e-10)
    # L = 3: the event time solves u(t) = 0.9 s, and the small-u0 asymptotic is within 0.4 %
    for u0 in (1e-4, 1e-3):
        t3 = modes.gf_learning_time(u0, 1.0, 3)
        assert modes.gf_solution(np.array([0.0, t3]), u0, 1.0, 3)[-1] == pytest.approx(
            0.9, rel=1e-6
        )
        assert t3 == pytest.approx(u0 ** (-1 / 3) / 1.0, rel=0.004)


def test_transient_models_track_gradient_flow_and_flag_divergence():
    s = np.array([2.0, 1.0])
    a0 = np.tile(np.full(2, 1e-3 ** (1 / L)), 500)
    s_flat = np.tile(s, 500)
    rng = np.random.default_rng(3)
    _, first, div = modes.simulate(
        a0,
        s_flat,
        L,
        rng,
        model="sgd",
        eta=0.005,
        batch=1,
        sigma=0.0,
        n_steps=3000,
        learn_level=0.9 * s_flat,
    )
    assert not div.any() and np.all(first > 0)
    ratio = (0.005 * first).reshape(500, 2) / [modes.gf_learning_time(1e-3, x, L) for x in s]
    assert np.all(np.abs(np.median(ratio, axis=0) - 1) < 0.03)
    # a learning rate far beyond stability: flagged, kept at NaN, never infinite
    out, _, div = modes.simulate(
        np.full(50, 2.0),
        3.0,
        L,
        rng,
        model="sgd",
        eta=5.0,
        batch=1,
        sigma=1.0,
        n_steps=200,
        snapshot_steps=[200],
    )
    assert div.all() and np.isnan(out).all()


SCALAR = dict(
    init="aligned-s",
    model="em",
    depth=3,
    teacher=[3.0, 2.0, 1.0],
    sigma=1.0,
    chains=200,
    ks_chains=2000,
    eta_batch=[[0.004, 1], [0.002, 1], [0.004, 2]],
    burn_in=1.0,
    snapshot_every=1.0,
    snapshots=2,
    seeds=1,
)


def test_scalar_and_transient_experiments_have_the_documented_layout():
    ds = experiment.run("scalar", SCALAR, [0], key=("dln_sgd", 0, "scalar"), log=lambda _: None)
    assert dict(ds["u"].sizes) == {"seed": 1, "eta_B": 3, "snapshot": 2, "chain": 200, "mode": 3}
    assert list(ds["eta_B"].values) == ["0.004/1", "0.002/1", "0.004/2"]
    assert np.all((ds["ks_exact_p"] >= 0) & (ds["ks_exact_p"] <= 1))
    # the density is stored on the normalised grid u/s and integrates to 1 in u
    z = ds["u_over_s"].values
    for k, s in enumerate(SCALAR["teacher"]):
        assert trapezoid(ds["exact_pdf"].isel(eta_B=0, mode=k).values, z * s) == pytest.approx(
            1.0, abs=1e-3
        )
    params = dict(
        init="aligned-0.001",
        depth=3,
        teacher=[3.0, 2.0, 1.0],
        sigma=0.0,
        batch=1,
        eta=0.005,
        chains=50,
        t_max=12.0,
        seeds=1,
    )
    tr = experiment.run(
        "transient", params, [0], key=("dln_sgd", 0, "transient"), log=lambda _: None
    )
    assert dict(tr["t_learn90"].sizes) == {"seed": 1, "model": 2, "chain": 50, "mode": 3}
    assert np.all(np.isfinite(tr["t_learn90"])) and np.all(np.isfinite(tr["gf_t_learn90"]))


def test_observables_on_a_hand_made_staircase():
    t = np.arange(6) * 1.0
    s = np.array([2.0, 1.0])
    m = np.array(
        [[[0.0, 0.0], [1.0, 0.1], [1.9, 0.2], [2.0, 0.5], [2.0, 0.95], [2.0, 1.0]]]
    )  # (1, 6, 2)
    learn = observables.learn_index(m, s)
    np.testing.assert_array_equal(learn, [[2, 4]])  # first m >= 0.9 s: t = 2 and t = 4
    # mode 2 at mode 1's learning time is 0.2 / 1 = 0.2
    np.testing.assert_allclose(observables.sequential_index(m, s, learn), [0.2])
    d = np.array([[[1, 0], [3, 1], [2, 2], [1, 5], [0, 4], [0, 9]]], dtype=float)
    np.testing.assert_array_equal(observables.peak_index(d), [[1, 5]])
    np.testing.assert_array_equal(observables.peak_index(d, upto=learn), [[1, 3]])
    np.testing.assert_allclose(observables.take(m, np.array([[1, 3]])), [[1.0, 0.5]])
    # a mode never learned: no learning time and an undefined sequential index
    m2 = m.copy()
    m2[..., 0] = 1.0
    learn2 = observables.learn_index(m2, s)
    assert learn2[0, 0] == -1 and np.isnan(observables.sequential_index(m2, s, learn2)[0])
    assert observables.peak_index(np.full((1, 3, 2), np.nan)).tolist() == [[-1, -1]]
