"""scaled_gd: operators, initialisations, solvers and the experiment runner on tiny problems."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.studies.scaled_gd import algorithms as alg
from initlab.studies.scaled_gd import experiment, initialization, problem


def _problem(seed, n1, n2, r, c, kappa=1.0, batch=1, psd=False):
    """A batch of problems: operators, measurements, truths (each member its own streams)."""
    rngs = [np.random.default_rng([seed, b]) for b in range(batch)]
    if psd:
        m = problem.num_measurements_psd(c, n1, r)
        a = problem.symmetric_operator(rngs, m, n1)
    else:
        m = problem.num_measurements(c, n1, n2, r)
        a = problem.gaussian_operator(rngs, m, n1, n2)
    sigma = problem.singular_values(r, kappa)
    x = np.stack(
        [
            problem.ground_truth(np.random.default_rng([seed, b, 1]), n1, n2, sigma, psd=psd)[2]
            for b in range(batch)
        ]
    )
    return a, problem.forward(a, x), x


def _loss(a, y, left, right, power):
    """f = (1/power) ||A(L R^T) - y||^2 for one member (power 2: general, 4: PSD)."""
    res = problem.forward(a, (left @ right.T)[None]) - y
    return float(np.sum(res**2)) / power


def _central_difference(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def test_operator_shapes_and_adjoint():
    a, y, x = _problem(0, 4, 3, 2, c=3.0, batch=2)
    assert a.shape == (2, 42, 12) and y.shape == (2, 42) and x.shape == (2, 4, 3)
    z = np.random.default_rng(1).standard_normal((2, 42))
    w = np.random.default_rng(2).standard_normal((2, 4, 3))
    # <A(W), z> = <W, A^*(z)> per member, and row k of A[b] is vec(A_k) in row-major order
    lhs = np.sum(problem.forward(a, w) * z, axis=1)
    rhs = np.sum(w * problem.adjoint(a, z, (4, 3)), axis=(1, 2))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    np.testing.assert_allclose(y[1, 5], np.sum(a[1, 5].reshape(4, 3) * x[1]), rtol=1e-12)


def test_ground_truth_profile():
    u, v, x = problem.ground_truth(np.random.default_rng(0), 7, 5, problem.singular_values(3, 10))
    np.testing.assert_allclose(u.T @ u, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(x, compute_uv=False)[:3], [1.0, 0.55, 0.1])


def test_operator_memory_limit():
    with pytest.raises(ValueError, match=r"GB"):
        problem.check_operator_size(8, 10_000, 40_000, max_gb=4.0)  # 25.6 GB
    assert problem.max_batch(1000, 1000, max_gb=0.02, wanted=8) == 2  # 8 MB per member
    with pytest.raises(ValueError, match=r"\(1, 1000, 1000\)"):
        problem.max_batch(1000, 1000, max_gb=0.001, wanted=8)


def test_gd_gradient_matches_finite_differences():
    a, y, _ = _problem(3, 4, 3, 2, c=3.0)
    rng = np.random.default_rng(4)
    left, right = rng.standard_normal((1, 4, 2)), rng.standard_normal((1, 3, 2))
    new_l, new_r = alg.gd_step(a, y, left, right, eta=1.0, sigma1=1.0)  # L+ = L - grad_L f
    g_l = _central_difference(lambda l_: _loss(a, y, l_, right[0], 2), left[0])
    g_r = _central_difference(lambda r_: _loss(a, y, left[0], r_, 2), right[0])
    np.testing.assert_allclose(left[0] - new_l[0], g_l, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(right[0] - new_r[0], g_r, rtol=1e-6, atol=1e-8)


def test_psd_gradient_matches_finite_differences():
    a, y, _ = _problem(5, 4, 4, 2, c=4.0, psd=True)
    left = np.random.default_rng(6).standard_normal((1, 4, 2))
    new_l = alg.gd_psd_step(a, y, left, eta=1.0, sigma1=1.0)  # Z L = grad of 1/4 ||.||^2
    g = _central_difference(lambda l_: _loss(a, y, l_, l_, 4), left[0])
    np.testing.assert_allclose(left[0] - new_l[0], g, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_scaled_gd_step_is_preconditioned_gradient(lam):
    a, y, _ = _problem(7, 5, 4, 2, c=3.0)
    rng = np.random.default_rng(8)
    left, right = rng.standard_normal((1, 5, 2)), rng.standard_normal((1, 4, 2))
    l0, r0 = left[0], right[0]
    # independent reference: Z = sum_k (<A_k, L R^T> - y_k) A_k from the measurement matrices
    mats = a[0].reshape(-1, 5, 4)
    z = np.einsum("k,kij->ij", np.einsum("kij,ij->k", mats, l0 @ r0.T) - y[0], mats)
    eta = 0.5
    want_l = l0 - eta * (z @ r0) @ np.linalg.inv(r0.T @ r0 + lam * np.eye(2))
    want_r = r0 - eta * (z.T @ l0) @ np.linalg.inv(l0.T @ l0 + lam * np.eye(2))
    new_l, new_r = alg.scaled_gd_step(a, y, left, right, eta=eta, lam=lam)
    np.testing.assert_allclose(new_l[0], want_l, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(new_r[0], want_r, rtol=1e-10, atol=1e-12)


def test_spectral_init_error_shrinks_with_m():
    # Y = A^*(y) = X* + E with E roughly Gaussian of entry s.d. ||X*||_F / sqrt(m). The top-r
    # SVD keeps, to first order, the tangent-space part of E, whose dimension is
    # r (n1 + n2 - r) ~ m / c, so rel_err(spectral) ~ sqrt(r (n1 + n2 - r) / m) ~ 1/sqrt(c):
    # about 0.45 at c = 5 (the brief measured 0.46-0.54), 0.22 at c = 20, 0.7 at c = 2.
    # The rigorous (loose) bound ||Y_r - X*||_F <= 2 sqrt(2r) ||E||_op with
    # ||E||_op ~ ||X*||_F (sqrt(n1) + sqrt(n2)) / sqrt(m) is checked too.
    n, r = 10, 2
    errs = {}
    for c in (2.0, 20.0):
        a, y, x = _problem(11, n, n, r, c=c, batch=4)
        left, right = initialization.spectral_init(a, y, (n, n), r)
        errs[c] = alg.relative_error(left @ right.transpose(0, 2, 1), x)
        m = problem.num_measurements(c, n, n, r)
        assert np.all(errs[c] < 2 * np.sqrt(2 * r) * 2 * np.sqrt(n) / np.sqrt(m))
    assert errs[20.0].mean() < 0.3
    assert errs[20.0].mean() < errs[2.0].mean()


def test_spectral_init_psd_is_psd():
    a, y, x = _problem(12, 8, 8, 2, c=10.0, psd=True)
    left = initialization.spectral_init_psd(a, y, 8, 2)
    est = left @ left.transpose(0, 2, 1)
    assert np.all(np.linalg.eigvalsh(est) > -1e-12)
    assert alg.relative_error(est, x)[0] < 0.5


def test_psd_scaled_gd_converges_and_operator_is_symmetric():
    a, y, x = _problem(13, 8, 8, 2, c=5.0, kappa=10, psd=True)
    z = problem.adjoint(a, np.random.default_rng(0).standard_normal(y.shape), (8, 8))
    np.testing.assert_allclose(z, z.transpose(0, 2, 1), atol=1e-14)
    left = initialization.spectral_init_psd(a, y, 8, 2)
    tr = alg.scaled_gd_psd(a, y, x, left, eta=0.5, eps=1e-10, t_max=500)
    assert tr.iters_to_eps[0] > 0 and not tr.diverged[0]
    gd = alg.gd_psd(a, y, x, left, eta=0.5, sigma1=1.0, eps=1e-10, t_max=5000)
    assert gd.iters_to_eps[0] > 2 * tr.iters_to_eps[0]


def test_symmetric_operator_is_isotropic_on_symmetric_matrices():
    n, m = 5, 4000
    a = problem.symmetric_operator([np.random.default_rng(0)], m, n)
    s = np.random.default_rng(1).standard_normal((n, n))
    s = s + s.T
    energy = np.sum(problem.forward(a, s[None]) ** 2)  # E = ||S||_F^2 (m terms of ||S||^2/m)
    assert abs(energy / np.sum(s**2) - 1) < 0.1


def test_scaled_gd_iterations_do_not_depend_on_kappa():
    n, r = 10, 2
    iters = {}
    for kappa in (1.0, 100.0):
        a, y, x = _problem(21, n, n, r, c=5.0, kappa=kappa, batch=2)
        left, right = initialization.spectral_init(a, y, (n, n), r)
        tr = alg.scaled_gd(a, y, x, left, right, eta=0.5, eps=1e-10, t_max=1000)
        gd = alg.gd(a, y, x, left, right, eta=0.5, sigma1=1.0, eps=1e-10, t_max=200)
        assert np.all(tr.iters_to_eps > 0)
        iters[kappa] = tr.iters_to_eps
        if kappa == 100.0:
            assert np.all(gd.iters_to_eps == -1)  # GD needs ~kappa times more
    ratio = np.maximum(iters[1.0], iters[100.0]) / np.minimum(iters[1.0], iters[100.0])
    assert np.all(ratio <= 1.3)


def test_rgd_converges():
    a, y, x = _problem(22, 10, 10, 2, c=5.0, kappa=10.0, batch=2)
    left, right = initialization.spectral_init(a, y, (10, 10), 2)
    tr = alg.rgd(a, y, x, left, right, eps=1e-10, t_max=500)
    assert np.all(tr.iters_to_eps > 0)


def test_trace_and_divergence_of_plain_scaled_gd_from_small_random_init():
    a, y, x = _problem(23, 10, 10, 2, c=5.0, batch=3)
    rng = np.random.default_rng(0)
    left = np.stack([initialization.random_init(rng, 10, 2, 1e-3) for _ in range(3)])
    right = np.stack([initialization.random_init(rng, 10, 2, 1e-3) for _ in range(3)])
    tr = alg.scaled_gd(a, y, x, left, right, eta=0.5, eps=1e-10, t_max=50)
    assert tr.rel_err.shape == (3, 51)
    assert np.all(tr.diverged) and np.all(tr.iters_to_eps == -1)
    assert np.all(np.isnan(tr.rel_err[:, -1]))  # stopped early: NaN after the stop
    damped = alg.scaled_gd(a, y, x, left, right, eta=0.5, lam=0.1, eps=1e-10, t_max=1000)
    assert not damped.diverged.any() and np.all(damped.iters_to_eps > 0)
    # alpha = 1e-160: L R^T overflows to inf after one step; traces hold NaN, never inf
    tiny = alg.scaled_gd(a, y, x, 1e-157 * left, 1e-157 * right, eta=0.5, eps=1e-10, t_max=5)
    assert np.all(tiny.diverged) and not np.isinf(tiny.rel_err).any()
    assert np.all(np.isnan(tiny.rel_err[:, 1:]))


def test_singular_system_is_recorded_as_diverged():
    a, y, x = _problem(24, 6, 5, 2, c=5.0, batch=2)
    left, right = initialization.spectral_init(a, y, (6, 5), 2)
    right[1] = 0.0  # R^T R = 0: LinAlgError in the solve for member 1 only
    tr = alg.scaled_gd(a, y, x, left, right, eta=0.5, eps=1e-10, t_max=500)
    assert tr.diverged.tolist() == [False, True]
    assert tr.iters_to_eps[0] > 0 and tr.iters_to_eps[1] == -1


@pytest.mark.parametrize(
    "value, expected",
    [
        ("spectral", ("spectral", None)),
        ("random-0.001", ("random", 1e-3)),
        ("random-1e-6", ("random", 1e-6)),
    ],
)
def test_parse_init(value, expected):
    assert initialization.parse_init(value) == expected


@pytest.mark.parametrize(
    "value", ["randn-0.1", "random", "random-", "random-abc", "random--1", "Spectral", "orthogonal"]
)
def test_parse_init_rejects(value):
    with pytest.raises(ValueError, match=repr(value).replace("(", r"\(")):
        initialization.parse_init(value)


def test_c50():
    assert experiment.c50([1.0, 2.0, 3.0], [0.0, 0.25, 0.75]) == pytest.approx(2.5)
    assert experiment.c50([3.0, 1.0, 2.0], [1.0, 0.0, 0.5]) == pytest.approx(2.0)  # sorted first
    assert experiment.c50([1.0, 1.5], [0.5, 1.0]) == 1.0  # first point already >= 0.5
    assert experiment.c50([1.0, 1.5], [0.875, 1.0]) == 1.0
    assert np.isnan(experiment.c50([1.0, 2.0], [0.0, 0.375]))  # never reaches 0.5
    # first crossing counts, even if the fraction dips again later
    assert experiment.c50([1, 2, 3, 4], [0, 1, 0, 1]) == pytest.approx(1.5)


_TINY = {
    "n1": 8,
    "n2": 8,
    "r": 2,
    "eta": 0.5,
    "eps": 1e-10,
    "lam": 0.1,
    "gd_sigma1": "oracle",
    "t_max": 300,
    "seeds": 3,
    "init": "spectral",
    "method": "scaledgd",
    "c": 5.0,
    "kappa": 10,
}


def test_conditioning_dataset_and_determinism():
    key = ("scaled_gd", 0, "conditioning")
    ds = experiment.run("conditioning", _TINY, [0, 1, 2], key=key, log=lambda s: None)
    assert dict(ds.sizes) == {"seed": 3, "iter": 301}
    assert ds["seed"].values.tolist() == [0, 1, 2]
    assert ds["iters_to_eps"].dtype == np.int64 and ds["diverged"].dtype == np.int8
    assert ds["rel_err"].dims == ("seed", "iter") and ds["cpu_s"].dims == ("seed",)
    assert all(isinstance(ds[v].attrs["units"], str) for v in ds.data_vars)
    assert np.all(ds["iters_to_eps"] > 0)
    again = experiment.run("conditioning", _TINY, [0, 1, 2], key=key, log=lambda s: None)
    np.testing.assert_array_equal(ds["rel_err"].values, again["rel_err"].values)
    # batching does not change results: one seed per batch, or a seed run on its own
    single = experiment.run(
        "conditioning", {**_TINY, "batch_mb": 1e-6}, [0, 1, 2], key=key, log=lambda s: None
    )
    np.testing.assert_array_equal(ds["rel_err"].values, single["rel_err"].values)
    alone = experiment.run("conditioning", _TINY, [2], key=key, log=lambda s: None)
    np.testing.assert_array_equal(ds["rel_err"].sel(seed=[2]).values, alone["rel_err"].values)
    other = experiment.run(
        "conditioning", _TINY, [0], key=("scaled_gd", 1, "conditioning"), log=lambda s: None
    )
    assert other["init_err"].values[0] != ds["init_err"].values[0]


def test_conditioning_shares_operator_across_methods_and_kappa():
    # same operator and bases for every method and kappa: at kappa = 1 GD with eta/sigma1 and
    # ScaledGD start from the same spectral point, so init_err agrees exactly across methods
    key = ("scaled_gd", 0, "conditioning")
    runs = [
        experiment.run(
            "conditioning", {**_TINY, "method": m, "kappa": 1}, [0, 1], key=key, log=lambda s: None
        )
        for m in ("scaledgd", "gd", "rgd")
    ]
    for other in runs[1:]:
        np.testing.assert_allclose(other["init_err"].values, runs[0]["init_err"].values, rtol=1e-12)


def test_operator_limit_is_enforced():
    with pytest.raises(ValueError, match="GB"):
        experiment.run(
            "conditioning", {**_TINY, "max_operator_gb": 1e-6}, [0], key=("k",), log=lambda s: None
        )


def test_phase_transition_dataset():
    params = {**_TINY, "tol": 1e-8, "t_max": 400, "c_grid": [0.5, 3.0], "r": 1}
    lines = []
    ds = experiment.run(
        "phase_transition", params, [0, 1], key=("scaled_gd", 0, "pt"), log=lines.append
    )
    assert len(lines) == 2
    assert ds["success"].dims == ("seed", "c") and ds["success"].dtype == np.int8
    assert ds["iters"].dtype == np.int64 and ds["c50"].dims == ()
    assert ds["success"].sel(c=0.5).sum() == 0 and ds["success"].sel(c=3.0).sum() == 2
    assert float(ds["c50"]) == pytest.approx(0.5 + 0.5 / 1.0 * 2.5)


def test_psd_experiment_runs():
    params = {
        "n": 8,
        "r": 2,
        "eta": 0.5,
        "eps": 1e-10,
        "t_max": 300,
        "seeds": 1,
        "init": "spectral",
        "method": "scaledgd",
        "c": 5.0,
        "kappa": 10,
    }
    ds = experiment.run("psd", params, [0], key=("scaled_gd", 0, "psd"), log=lambda s: None)
    assert int(ds["iters_to_eps"][0]) > 0


def test_run_rejects_unknown_values():
    for bad in ({"method": "adam"}, {"init": "xavier"}):
        with pytest.raises(ValueError):
            experiment.run("conditioning", {**_TINY, **bad}, [0], key=("k",), log=lambda s: None)
    with pytest.raises(ValueError):
        experiment.run("nope", _TINY, [0], key=("k",), log=lambda s: None)
