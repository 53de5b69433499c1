"""homogenized_transformers: one layer of the random Transformer, its samplers and statistics.

The generator test is the brief's A1 at test size: the mean and the covariance of one layer's
increment against the drift and covariance of the reconstructed limit SDE (brief §2.3).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from initlab.studies.homogenized_transformers import experiment, limits, model, statistics
from initlab.studies.homogenized_transformers.initialization import (
    concentrated,
    equiangular,
    initial_tokens,
    parse_init,
    uniform,
)


def _tokens(n, d, seed=0):
    return uniform(np.random.default_rng(seed), n, d)


def _upper_rel(emp, pred):
    iu = np.triu_indices(pred.shape[-1], 1)
    return np.abs(emp - pred)[iu].max() / np.abs(pred[iu]).max()


@pytest.fixture(scope="module")
def one_layer():
    """A1 at n=5, d=6, beta=1, eta=0.02: moments of one layer over 30000 antithetic draws."""
    x = _tokens(5, 6, seed=3)
    mom = experiment.one_layer_moments(x, np.random.default_rng(7), 30000, beta=1.0, eta=0.02)
    return x, mom


def test_one_layer_mean_matches_the_ito_drift(one_layer):
    """E[Delta x_i]/eta^2 = -(d-1)/2 C_ii x_i: the renormalisation is the Itô term."""
    x, mom = one_layer
    d = x.shape[1]
    pred = -0.5 * (d - 1) * np.diag(mom["c"])[:, None] * x
    assert np.abs(mom["emp_dx"] - pred).max() <= 0.03 * np.abs(pred).max()
    # and the Gram drift (d-2+rho^2) C_ij - (d-1)/2 (C_ii + C_jj) rho_ij
    assert _upper_rel(mom["emp"], limits.gram_drift(mom["c"], x)) <= 0.03


def test_one_layer_covariance_matches_c(one_layer):
    """E<Delta x_i, Delta x_j>/eta^2 = tr(P_i P_j) C_ij = (d - 2 + rho_ij^2) C_ij."""
    x, mom = one_layer
    d, rho = x.shape[1], x @ x.T
    pred = mom["c"] * (d - 2 + rho**2)
    assert _upper_rel(mom["emp_cov"], pred) <= 0.03
    np.testing.assert_allclose(np.diag(mom["emp_cov"]), (d - 1) * np.diag(mom["c"]), rtol=0.03)


def test_generator_check_detects_a_missing_ito_term(one_layer):
    """The A1 comparison has power: a drift without the -(d-1)/2 C_ii term is far off."""
    x, mom = one_layer
    d, rho = x.shape[1], x @ x.T
    wrong = (d - 2 + rho**2) * mom["c"]
    assert _upper_rel(mom["emp"], wrong) > 0.5


@pytest.mark.parametrize("sampler", ["direct", "fast"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 50.0])
def test_tokens_stay_on_the_sphere(sampler, beta):
    rng = np.random.default_rng(1)
    n, d, heads = 12, 20, 3
    x = initial_tokens("uniform", n, d, [np.random.default_rng(s) for s in range(4)])
    for _ in range(200):
        z = rng.standard_normal((4, *model.normal_shape(n, d, heads, sampler)))
        x = model.layer(x, z, beta=beta, eta=0.05, v_mean=0.3, sampler=sampler)
    assert np.abs(np.linalg.norm(x, axis=-1) - 1).max() <= 1e-12


def test_per_token_and_limit_steps_stay_on_the_sphere():
    rng = np.random.default_rng(2)
    n, d = 10, 6
    x = np.stack([_tokens(n, d, s) for s in range(3)])
    y = x.copy()
    for _ in range(100):
        x = model.layer_per_token(x, rng.standard_normal((3, *model.per_token_shape(n, d, 2))), beta=2.0, eta=0.05)
        z = rng.standard_normal((2, 3, 8, d, d))
        c = limits.covariance(y, z[0], z[1], beta=2.0)
        y = limits.sde_step(y, c, rng.standard_normal(y.shape), 0.01)
    for tokens in (x, y):
        assert np.abs(np.linalg.norm(tokens, axis=-1) - 1).max() <= 1e-12


def test_extreme_temperatures_run_without_overflow():
    """beta = 0: uniform attention exactly; beta = 1e8: a finite one-hot limit, no overflow."""
    rng = np.random.default_rng(4)
    n, d = 8, 64
    x = _tokens(n, d)
    z = rng.standard_normal((2, 1, d, d))
    a0 = model.attention(x, z[0], z[1], beta=0.0)
    np.testing.assert_array_equal(a0, np.full((1, n, n), 1.0 / n))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = model.attention(x, z[0], z[1], beta=1e8)
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a.max(axis=-1), 1.0, atol=1e-12)
        y = x
        for sampler in ("direct", "fast"):
            for _ in range(20):
                zz = rng.standard_normal(model.normal_shape(n, d, 2, sampler))
                y = model.layer(y, zz, beta=1e8, eta=0.05, sampler=sampler)
        assert np.all(np.isfinite(y))


def test_head_normalisation_and_clocks():
    assert model.diffusion_dt(0.05, 4) == pytest.approx(0.01)
    assert model.diffusion_dt(0.05, 4, "inv-sqrt") == pytest.approx(0.0025)
    assert model.diffusion_dt(0.05, 4, "inv") == pytest.approx(0.0025 / 4)
    assert model.drift_dt(0.1, 4, "one", 2.0) == pytest.approx(0.8)
    assert model.drift_dt(0.1, 4, "inv-sqrt", 1.0) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="head_norm"):
        model.head_factor(2, "two")


def _rollout(layer_fn, shape, x0, layers, seed):
    rng = np.random.default_rng(seed)
    x = x0
    for _ in range(layers):
        x = layer_fn(x, rng.standard_normal((x0.shape[0], *shape)))
    return statistics.collapse_stats(x)


def test_fast_sampler_is_equal_in_law_to_the_direct_one():
    """KS on rho_bar, mean rho^2 and lambda_max/n after 40 layers (brief §2.7: n=8, d=16,
    beta=3, H=2, 400 seeds)."""
    n, d, heads, seeds = 8, 16, 2, 400
    x0 = initial_tokens("orthonormal", n, d, [None] * seeds)
    out = {}
    for sampler in ("direct", "fast"):
        def fn(x, z, sampler=sampler):
            return model.layer(x, z, beta=3.0, eta=0.07, sampler=sampler)

        out[sampler] = _rollout(fn, model.normal_shape(n, d, heads, sampler), x0, 40, seed=11)
    for name in ("rho_bar", "rho2", "lam_max_over_n"):
        assert stats.ks_2samp(out["direct"][name], out["fast"][name]).pvalue > 0.01, name
    # the test has power: a different temperature is detected
    def hot(x, z):
        return model.layer(x, z, beta=0.0, eta=0.07)

    other = _rollout(hot, model.normal_shape(n, d, heads, "direct"), x0, 40, seed=12)
    assert stats.ks_2samp(out["direct"]["rho2"], other["rho2"]).pvalue < 1e-4


def test_reduced_per_token_sampler_is_equal_in_law_to_full_matrices():
    n, d, heads, seeds = 6, 5, 1, 400
    x0 = np.stack([_tokens(n, d, 100 + s) for s in range(seeds)])

    def reduced(x, z):
        return model.layer_per_token(x, z, beta=3.0, eta=0.1)

    def full(x, z):
        return model.layer_per_token_direct(x, z, beta=3.0, eta=0.1)

    a = _rollout(reduced, model.per_token_shape(n, d, heads), x0, 25, seed=5)
    b = _rollout(full, (heads, n, 3, d, d), x0, 25, seed=6)
    for name in ("rho_bar", "rho2", "lam_max_over_n"):
        assert stats.ks_2samp(a[name], b[name]).pvalue > 0.01, name


def test_weight_stream_does_not_depend_on_chunking_or_seed_count():
    def rows(count, chunk_bytes):
        stream = model.WeightStream(
            [np.random.default_rng([s, 9]) for s in range(count)], (3, 2), chunk_bytes
        )
        return np.stack([stream.draw() for _ in range(7)])

    big = rows(3, 1 << 20)
    np.testing.assert_array_equal(big, rows(3, 48))
    np.testing.assert_array_equal(big[:, :2], rows(2, 100))


def test_initialisations():
    n, d = 6, 9
    for rho0 in (-1 / (n - 1), 0.0, 0.3):
        x = equiangular(n, d, rho0)
        np.testing.assert_allclose(x @ x.T, (1 - rho0) * np.eye(n) + rho0, atol=1e-12)
    assert np.abs(equiangular(16, 64, -1 / 15).sum(axis=0)).max() < 1e-12
    xs = np.stack([concentrated(np.random.default_rng(s), 40, 16, 1.5) for s in range(20)])
    assert statistics.rho_bar(xs).mean() == pytest.approx(0.30, abs=0.04)
    fixed = initial_tokens("fixed", n, d, [None] * 3, fixed_rng=np.random.default_rng(0))
    assert np.array_equal(fixed[0], fixed[2])
    assert parse_init("equiangular--0.02") == ("equiangular", -0.02)
    for bad in ("gaussian", "equiangular-x", "concentrated"):
        with pytest.raises(ValueError, match="init"):
            parse_init(bad)
    with pytest.raises(ValueError, match="d >= n"):
        equiangular(8, 4, 0.0)


def test_collapse_statistics_see_antipodal_clusters():
    """Two antipodal clusters: rho_bar near 0, lambda_max/n = 1, 2 clusters."""
    e = np.eye(4)[0]
    x = np.stack([e] * 5 + [-e] * 5)
    s = statistics.collapse_stats(x)
    assert s["rho_bar"] == pytest.approx(-1 / 9)
    assert s["rho2"] == pytest.approx(1.0)
    assert s["lam_max_over_n"] == pytest.approx(1.0)
    assert s["frac_neg"] == pytest.approx(25 / 45)
    assert s["frac_pos"] == pytest.approx(20 / 45)
    assert statistics.cluster_count(x) == 1  # |rho| > 0.99 joins antipodes
    np.testing.assert_allclose(statistics.rho_bar(x), s["rho_bar"])
    assert statistics.t_half(np.arange(4.0), np.array([0.1, 0.49, 0.5, 0.7])) == 2.0
    assert np.isnan(statistics.t_half(np.arange(2.0), np.array([0.1, 0.2])))
