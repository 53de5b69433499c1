"""manifold_gmm: Stiefel geometry and the gradient of the penalised objective (claim A-manifold)."""

import numpy as np
import pytest

from initlab.studies.manifold_gmm import algorithm, gmm, stiefel


def _problem(seed=0, n=200, p=6, d=2, k=3, eps=1e-3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    w = stiefel.random_point(rng, p, d)[None]
    labels = rng.integers(0, k, n)[None]
    mix = gmm.from_labels(x @ w, labels, k, eps)
    return rng, x, w, mix


def test_qf_is_unique_and_fixes_points_on_the_manifold():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 7, 3))
    q = stiefel.qf(a)
    assert stiefel.orth_error(q).max() < 1e-14
    r = np.swapaxes(q, -1, -2) @ a  # R = Q^T A, upper triangular with positive diagonal
    assert (np.diagonal(r, axis1=-2, axis2=-1) > 0).all()
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert np.abs(stiefel.qf(q) - q).max() < 1e-14
    xi = stiefel.riemannian_gradient(q, rng.standard_normal(q.shape))
    assert np.abs(stiefel.retract(q, xi, 0.0) - q).max() < 1e-12  # R_W(0) = W


def test_riemannian_gradient_is_tangent():
    rng = np.random.default_rng(2)
    w = stiefel.random_point(rng, 9, 4, size=5)
    xi = stiefel.riemannian_gradient(w, rng.standard_normal(w.shape))
    assert np.linalg.norm(stiefel.sym(np.swapaxes(w, -1, -2) @ xi), axis=(-2, -1)).max() < 1e-10


def test_euclidean_gradient_matches_central_differences():
    _, x, w, mix = _problem()
    g = algorithm.euclidean_gradient(x, w, mix)[0]
    h = 1e-6
    fd = np.zeros_like(g)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            e = np.zeros_like(w)
            e[0, i, j] = h
            fd[i, j] = (
                algorithm.objective(x, w + e, mix)[0] - algorithm.objective(x, w - e, mix)[0]
            ) / (2 * h)
    assert np.linalg.norm(g - fd) / np.linalg.norm(g) < 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_riemannian_gradient_matches_finite_differences_along_the_manifold(seed):
    """d/dt f(R_W(t V)) at t = 0 equals <grad f(W), V> for tangent V: the derivative of the
    objective along a retraction curve that stays on St(p, d)."""
    rng, x, w, mix = _problem(seed)
    xi = stiefel.riemannian_gradient(w, algorithm.euclidean_gradient(x, w, mix))
    v = stiefel.riemannian_gradient(w, rng.standard_normal(w.shape))  # a random tangent vector
    h = 1e-5
    up = algorithm.objective(x, stiefel.retract(w, v, h), mix)[0]
    down = algorithm.objective(x, stiefel.retract(w, v, -h), mix)[0]
    fd = (up - down) / (2 * h)
    exact = float((xi * v).sum())
    assert abs(fd - exact) <= 1e-6 * max(1.0, abs(exact))
    # and the Riemannian gradient is the steepest direction: along xi itself the slope is |xi|^2
    up = algorithm.objective(x, stiefel.retract(w, xi, h), mix)[0]
    down = algorithm.objective(x, stiefel.retract(w, xi, -h), mix)[0]
    assert abs((up - down) / (2 * h) - float((xi**2).sum())) < 1e-6 * max(1.0, float((xi**2).sum()))
