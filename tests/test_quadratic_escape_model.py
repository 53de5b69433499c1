"""quadratic_escape: the model, the ODE right-hand side, the population-loss gradient and Hessian,
the init axis and bad sizes (brief §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from initlab.studies.quadratic_escape import experiment, hessian, model, ode, sgd
from initlab.studies.quadratic_escape.initialization import (
    anisotropic_overlaps,
    haar_orthogonal,
    parse_init,
    stiefel,
)


def _network(rng, N=40, p=3, pstar=2, scale=0.8, mix=0.5):
    """Students with a nonzero teacher component, so every moment (S_QM, S3, ...) matters."""
    Wstar = model.teacher(rng, pstar, N)
    W = scale * rng.standard_normal((p, N)) + mix * rng.standard_normal((p, pstar)) @ Wstar
    return W, Wstar


def test_teacher_is_orthonormal_with_norm_sqrt_n():
    Wstar = model.teacher(np.random.default_rng(0), 3, 50)
    np.testing.assert_allclose(Wstar @ Wstar.T / 50, np.eye(3), atol=1e-12)


def test_generalization_error_matches_its_definition():
    """eps_g = c^2/2 + tau2 equals (tr A)^2/2 + tr(A^2) with A = (a W^T W - b W*^T W*)/N, and a
    Monte Carlo average of (y_hat - y)^2 / 2."""
    rng = np.random.default_rng(1)
    W, Wstar = _network(rng)
    a, b, N = 1 / 3, 1 / 2, W.shape[1]
    eps = model.generalization_error(*model.overlaps(W, Wstar), a, b)
    A = (a * W.T @ W - b * Wstar.T @ Wstar) / N
    assert eps == pytest.approx(0.5 * np.trace(A) ** 2 + np.trace(A @ A), rel=1e-12)
    x = rng.standard_normal((200_000, N))
    err = a * np.sum((x @ W.T) ** 2, 1) / N - b * np.sum((x @ Wstar.T) ** 2, 1) / N
    half_sq = 0.5 * err**2
    assert abs(half_sq.mean() - eps) < 5 * half_sq.std() / np.sqrt(x.shape[0])


def test_ode_rhs_matches_monte_carlo_average_of_one_sgd_step():
    """N E[Q' - Q] and N E[M' - M] over fresh samples of one `sgd_step` against `ode.rhs`.

    The step is exactly ``gamma A + gamma^2 B`` per sample, so two learning rates on the same
    samples separate the first-order part (unbiased) from the second-order part (which carries
    an O((p + p*)/N) finite-N bias from |x|^2/N, allowed as 5 % of its size)."""
    rng = np.random.default_rng(2)
    N, p, pstar, sigma = 400, 3, 2, 0.5
    W, Wstar = _network(rng, N, p, pstar)
    a, b = 1 / p, 1 / pstar
    Q, M, T = model.overlaps(W, Wstar)
    h = 0.5
    first_q, second_q, first_m = [], [], []
    for _ in range(24):
        x = rng.standard_normal((2500, N))
        noise = sigma * rng.standard_normal(2500)
        steps = []
        for gamma in (h, 2 * h):
            Wn = sgd.sgd_step(W[None], Wstar[None], x, a=a, b=b, gamma=gamma, noise=noise)
            Qn, Mn, _ = model.overlaps(Wn, Wstar[None])
            steps.append((Qn - Q, Mn - M))
        (dq1, dm1), (dq2, _) = steps
        second = (dq2 - 2 * dq1) / (2 * h * h)
        first_q.append(N * (dq1 - h * h * second) / h)
        second_q.append(N * second)
        first_m.append(N * dm1 / h)
    dq_first, dm = ode.rhs(Q, M, T, a=a, b=b, gamma=1.0, sigma=sigma, second_order=False)
    dq_full, _ = ode.rhs(Q, M, T, a=a, b=b, gamma=1.0, sigma=sigma)
    for samples, predicted, bias in (
        (first_q, dq_first, 0.0),
        (first_m, dm, 0.0),
        (second_q, dq_full - dq_first, 0.05),
    ):
        samples = np.concatenate(samples)
        mean, se = samples.mean(0), samples.std(0) / np.sqrt(samples.shape[0])
        tol = 5 * se + bias * np.abs(predicted).max()
        assert np.all(np.abs(mean - predicted) <= tol), (mean, predicted, tol)


def test_population_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    W, Wstar = _network(rng, N=15, p=4, pstar=2)
    a, b = 0.25, 0.5
    grad = hessian.population_gradient(W, Wstar, a=a, b=b)
    h = 1e-6
    fd = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        e = np.zeros_like(W)
        e[idx] = h
        fd[idx] = (
            hessian.population_error(W + e, Wstar, a=a, b=b)
            - hessian.population_error(W - e, Wstar, a=a, b=b)
        ) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-10)


def test_analytic_hessian_equals_finite_differences_at_a_generic_point():
    rng = np.random.default_rng(4)
    W, Wstar = _network(rng, N=10, p=3, pstar=2)
    a, b = 1 / 3, 1 / 2
    np.testing.assert_allclose(
        hessian.hessian_analytic(W, Wstar, a=a, b=b),
        hessian.hessian_fd(W, Wstar, a=a, b=b),
        atol=1e-9,
    )


@pytest.mark.parametrize("N, p, pstar", [(10, 3, 1), (12, 4, 2), (9, 2, 2)])
@pytest.mark.parametrize("point", hessian.POINTS)
def test_eigenvalue_counts_are_exact_at_small_n(N, p, pstar, point):
    rng = np.random.default_rng(N + 10 * p + pstar)
    a, b = 1 / p, 1 / pstar
    build = hessian.plateau_point if point == "plateau" else hessian.solution_point
    W, Wstar = build(rng, N, p, pstar, a=a, b=b)
    assert np.linalg.norm(hessian.population_gradient(W, Wstar, a=a, b=b)) < 1e-12
    for H in (hessian.hessian_fd(W, Wstar, a=a, b=b), hessian.hessian_analytic(W, Wstar, a=a, b=b)):
        ev = np.linalg.eigvalsh(H)
        assert hessian.classify(ev, 1e-7) == hessian.predicted_counts(point, N, p, pstar)
        if point == "plateau":
            neg = ev[ev < -1e-7]
            np.testing.assert_allclose(
                neg, hessian.plateau_negative_eigenvalue(N, a=a, b=b), rtol=1e-6
            )


def test_counts_would_catch_a_wrong_point():
    """The count check is not vacuous: a point off the plateau has a different spectrum."""
    rng = np.random.default_rng(5)
    W, Wstar = hessian.plateau_point(rng, 12, 3, 1, a=1 / 3, b=1.0)
    ev = np.linalg.eigvalsh(hessian.hessian_analytic(1.2 * W, Wstar, a=1 / 3, b=1.0))
    assert hessian.classify(ev, 1e-7) != hessian.predicted_counts("plateau", 12, 3, 1)


def test_fixed_point_and_escape_rate_match_the_brief():
    """Brief §2: q* = 0.540, 0.713, 0.849, 0.939 and 1/(2 lambda) = 5.432, 5.372, 5.327, 5.299
    for p = 2, 4, 8, 16 at gamma = 0.1, p* = 2; gradient flow q* = p/(p+2), lambda = 2 gamma/p*."""
    for p, q, half in [(2, 0.540, 5.432), (4, 0.713, 5.372), (8, 0.849, 5.327), (16, 0.939, 5.299)]:
        kw = dict(a=1 / p, b=0.5, gamma=0.1)
        assert ode.plateau_fixed_point(p, 2, **kw) == pytest.approx(q, abs=6e-4)
        assert 0.5 / ode.escape_rate(p, 2, **kw) == pytest.approx(half, abs=6e-4)
        assert ode.plateau_fixed_point(p, 2, second_order=False, **kw) == pytest.approx(p / (p + 2))
        assert ode.escape_rate(p, 2, second_order=False, **kw) == pytest.approx(0.1)
        q_star = ode.plateau_fixed_point(p, 2, **kw)
        Q, M = q_star * np.eye(p), np.zeros((p, 2))
        dQ, dM = ode.rhs(Q, M, np.eye(2), **kw)
        assert np.abs(dQ).max() < 1e-10 and np.abs(dM).max() == 0.0
    assert ode.half_plateau_threshold(4, 2, b=0.5) == pytest.approx(0.5 * (1 / 6 + 1 / 2))


def test_fixed_point_raises_when_the_learning_rate_is_too_large():
    with pytest.raises(ValueError, match="too large"):
        ode.plateau_fixed_point(4, 2, a=0.25, b=0.5, gamma=5.0)


@pytest.mark.parametrize(
    "text, spec",
    [
        ("gaussian-q1", ("gaussian", 1.0, 1.0, 0.0)),
        ("isotropic", ("isotropic", 1.0, 1.0, 0.0)),
        ("isotropic-q0.5", ("isotropic", 0.5, 1.0, 0.0)),
        ("isotropic-rho10", ("isotropic", 1.0, 10.0, 0.0)),
        ("anisotropic-delta0.3-q2", ("anisotropic", 2.0, 1.0, 0.3)),
        ("haar", ("haar", 1.0, 1.0, 0.0)),
    ],
)
def test_parse_init(text, spec):
    s = parse_init(text)
    assert (s.scheme, s.q0, s.rho, s.delta) == spec


@pytest.mark.parametrize(
    "text, message",
    [
        ("uniform", "unknown scheme"),
        ("gaussian-rho2", "gaussian accepts -q<number>"),
        ("anisotropic", "needs -delta"),
        ("anisotropic-delta1.5", "delta must be in"),
        ("isotropic-q1-q2", "given twice"),
        ("haar-q1", "haar accepts nothing"),
    ],
)
def test_parse_init_rejects_bad_values(text, message):
    with pytest.raises(ValueError, match=message):
        parse_init(text)


def test_anisotropic_overlaps_have_the_requested_spectrum():
    rng = np.random.default_rng(6)
    G, O = rng.standard_normal((4, 2)), haar_orthogonal(rng, 4)
    Q0, M0 = anisotropic_overlaps(G, O, 100.0, 2.0, 3.0, 0.3)
    np.testing.assert_allclose(np.linalg.eigvalsh(Q0), 2.0 * (1 + 0.3 * np.linspace(-1, 1, 4)))
    np.testing.assert_allclose(M0, 3.0 * np.sqrt(2.0) * G / 10.0)
    R = stiefel(rng, 5, 3)
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-12)


@pytest.mark.parametrize(
    "N, p, pstar, message",
    [
        (20, 2, 3, r"p\* = 3 > p = 2"),
        (4, 4, 2, "N = 4 is too small"),
        (0, 4, 2, "N must be a positive integer"),
    ],
)
def test_bad_sizes_are_rejected_clearly(N, p, pstar, message):
    with pytest.raises(ValueError, match=message):
        model.check_sizes(N, p, pstar)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("sgd_vs_ode", {"N": 50, "p": 1, "pstar": 2}, r"p\* = 2 > p = 1"),
        ("sgd_vs_ode", {"N": 3, "p": 4, "pstar": 2}, "too small"),
        ("hessian", {"N": 20, "p": 2, "pstar": 3}, r"p\* = 3 > p = 2"),
        ("init_axis", {"N": 5, "p": 4, "pstar": 2}, "too small"),
    ],
)
def test_experiments_reject_bad_sizes_before_running(name, params, message):
    base = {
        "sgd_vs_ode": dict(init="gaussian-q1", gamma=0.1, t_max=1, records_per_unit=1),
        "hessian": dict(init="haar", method="fd"),
        "init_axis": dict(
            init="isotropic", ode_variants=["second-order"], gamma=0.1, t_max=1, points_per_unit=1
        ),
    }[name]
    with pytest.raises(ValueError, match=message):
        experiment.run(
            name,
            {**base, "a": "1/p", "b": "1/pstar", **params},
            [0],
            key=("t",),
            log=lambda m: None,
        )


def test_scales_from_the_config():
    assert model.resolve_scale("1/p", 4, "a") == 0.25
    assert model.resolve_scale(0.3, 4, "a") == 0.3
    with pytest.raises(ValueError, match="a: expected"):
        model.resolve_scale("p/2", 4, "a")
    with pytest.raises(ValueError, match="positive"):
        model.resolve_scale(-1.0, 4, "b")


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            ("sgd_vs_ode", "sweep", 0, "gamma"),
            [0.0],
            "gamma[0]: 0.0 is less than or equal to the minimum",
        ),
        (("sgd_vs_ode", "sweep", 0, "init"), ["gaussian-rho1"], "does not match"),
        (("escape_time", "settings", "a"), "1/q", "a"),
        (("init_axis", "settings", "ode_variants"), ["euler"], "is not one of"),
        (("hessian", "settings", "method"), "autograd", "is not one of"),
    ],
)
def test_schema_rejects_bad_study_settings(path, value, message):
    import copy

    import yaml

    from initlab.config import ConfigError, validate

    root = Path(__file__).resolve().parents[1]
    full = yaml.safe_load((root / "config.yaml").read_text())
    config = {"studies": {"quadratic_escape": full["studies"]["quadratic_escape"]}}
    bad = copy.deepcopy(config)
    node = bad["studies"]["quadratic_escape"]["experiments"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    validate(config, root / "workflow/schemas/config.schema.yaml")
    with pytest.raises(ConfigError, match="studies.quadratic_escape.experiments." + path[0]) as err:
        validate(bad, root / "workflow/schemas/config.schema.yaml")
    assert message in str(err.value)
