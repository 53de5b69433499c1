"""manifold_gmm: the alternating algorithm, the NN reduction, metrics and degenerate input."""

import numpy as np
import pytest

from initlab.studies.manifold_gmm import (
    algorithm,
    gmm,
    initialization,
    metrics,
    preprocessing,
    synthetic,
)


@pytest.fixture(scope="module")
def synthetic_fit():
    x, y, q = synthetic.make_synth3(np.random.default_rng(3), n=300)
    xw, pca = preprocessing.whiten(x, 10)
    names = initialization.start_names("multistart-4")
    labels = initialization.KMeans(4, n_init=10, random_state=0).fit_predict(xw)
    starts = initialization.initial_starts(
        xw,
        names,
        k=4,
        d=2,
        eps=1e-3,
        random_state=0,
        rng=np.random.default_rng(0),
        lda_labels=labels,
    )
    fit = algorithm.fit(xw, starts.w, starts.mix, eta0=0.5, outer_iters=25)
    return xw, y, q, pca, fit


def test_projection_stays_orthonormal_over_a_whole_run(synthetic_fit):
    *_, fit = synthetic_fit
    assert fit.orth_err.max() < 1e-10


def test_penalised_objective_never_decreases(synthetic_fit):
    xw, *_, fit = synthetic_fit
    n = len(xw)
    steps = np.diff(fit.trace_pen, axis=1) * n  # totals
    assert steps.min() >= -1e-8 * n
    assert fit.min_increase.min() >= -1e-8 * n
    np.testing.assert_allclose(fit.min_increase, steps.min(axis=1), rtol=1e-6, atol=1e-9)
    assert (fit.trace_pen[:, -1] > fit.trace_pen[:, 0]).all()


def test_m_step_is_the_maximiser_of_the_penalised_bound():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((1, 150, 2))
    gamma = rng.dirichlet(np.ones(3), size=150).T[None]
    mix = gmm.m_step(z, gamma, 1e-3)

    def bound(m):  # sum_ik gamma_ik [log pi_k + log N + pen_k]  (EM lower bound up to entropy)
        ev_terms = []
        for k in range(3):
            diff = z[0] - m.mu[0, k]
            y = diff @ m.linv[0, k].T
            logn = -0.5 * (2 * np.log(2 * np.pi) + m.logdet[0, k] + (y**2).sum(1))
            ev_terms.append(gamma[0, k] * (np.log(m.pi[0, k]) + logn + m.penalty[0, k]))
        return float(np.sum(ev_terms))

    best = bound(mix)
    for _ in range(10):
        s = mix.sigma + 0.01 * np.eye(2) * rng.uniform(-1, 1)
        assert (
            bound(gmm.Mixture(mix.pi, mix.mu + 0.01 * rng.standard_normal(mix.mu.shape), s, 1e-3))
            <= best
        )


def test_learned_subspace_is_the_signal_plane(synthetic_fit):
    from scipy.linalg import subspace_angles

    xw, y, q, pca, fit = synthetic_fit
    win = int(np.argmax(fit.trace_pen[:, -1]))
    assert np.cos(subspace_angles(fit.w[win], synthetic.signal_subspace(q, pca))).min() > 0.9
    assert metrics.hungarian_accuracy(y, fit.labels[win]) > 0.9


def test_nn_family_reduces_to_the_linear_family(synthetic_fit):
    from initlab.studies.manifold_gmm import nn_map

    xw, y, *_, fit = synthetic_fit
    win = int(np.argmax(fit.trace_pen[:, -1]))
    res = nn_map.fit_nn(
        xw,
        fit.w[win],
        fit.mix.take(np.array([win])),
        float(fit.trace_pen[win, -1]),
        rng=np.random.default_rng(0),
        outer_iters=2,
        adam_steps=2,
    )
    assert res.reduce_err < 1e-10
    assert res.trace_pen.shape == (3,) and np.isfinite(res.trace_pen).all()
    assert res.z.shape == (len(xw), 2)
    np.testing.assert_allclose(np.cov(res.z.T, ddof=1), np.eye(2), atol=1e-10)  # output whitening


def test_hungarian_accuracy_on_a_hand_made_case():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    assert metrics.hungarian_accuracy(y, np.array([2, 2, 2, 0, 0, 1, 1, 1])) == 1.0  # relabelled
    # clusters 5->0, 7->2 (2 of 3), 9->1: 7 of 8 right
    assert metrics.hungarian_accuracy(y, np.array([5, 5, 5, 9, 9, 7, 7, 5])) == pytest.approx(7 / 8)
    # more clusters than classes: unmatched clusters count as errors
    assert metrics.hungarian_accuracy(y, np.arange(8)) == pytest.approx(3 / 8)
    s = metrics.scores(y, np.array([2, 2, 2, 0, 0, 1, 1, 1]))
    assert s["nmi"] == pytest.approx(1.0) and s["ari"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal in length"):
        metrics.hungarian_accuracy(y, y[:-1])


def test_nan_in_the_data_is_a_clear_error():
    x = np.random.default_rng(0).standard_normal((50, 4))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        preprocessing.whiten(x, 2)


def test_more_clusters_than_points_is_a_clear_error():
    with pytest.raises(ValueError, match="K = 6 clusters in 5 points"):
        preprocessing.check_data(np.zeros((5, 3)), 6)


def test_constant_features_limit_the_whitening_dimension():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.standard_normal((60, 3)), np.ones((60, 2))])  # rank 3
    xw, _ = preprocessing.whiten(x, 3)  # fine: 3 directions with variance
    np.testing.assert_allclose(np.cov(xw.T, ddof=1), np.eye(3), atol=1e-10)
    with pytest.raises(ValueError, match="rank"):
        preprocessing.whiten(x, 4)


def test_duplicate_points_and_empty_components_stay_finite():
    """Duplicated points (3 distinct locations, K = 5): components empty out or collapse onto a
    point; the eps floor keeps every Sigma_k SPD (>= eps I), empty components get pi_k = 0 and
    the penalised objective stays finite and monotone (documented in gmm.py)."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((3, 4)) * 3
    x = np.repeat(base, 20, axis=0) + 1e-3 * rng.standard_normal((60, 4))
    xw, _ = preprocessing.whiten(x, 2)
    w = np.eye(2)[None]
    labels = np.arange(60)[None] % 5
    mix = gmm.from_labels(xw @ w, labels, 5, 1e-3)
    fit = algorithm.fit(xw, w, mix, eta0=0.5, outer_iters=15)
    assert np.isfinite(fit.trace_pen).all()
    assert fit.min_increase.min() >= -1e-8 * 60
    assert (np.linalg.eigvalsh(fit.mix.sigma) >= 1e-3 * (1 - 1e-9)).all()
    exact = np.repeat(base, 4, axis=0)  # exact duplicates
    xw, _ = preprocessing.whiten(exact, 2)
    mix = gmm.from_labels(xw @ w, (np.arange(12) % 2)[None], 2, 1e-3)
    assert np.isfinite(algorithm.fit(xw, w, mix, eta0=0.5, outer_iters=5).trace_pen).all()


def test_fit_rejects_bad_starts():
    x = np.random.default_rng(0).standard_normal((40, 4))
    mix = gmm.from_labels(x[None, :, :2], (np.arange(40) % 2)[None], 2, 1e-3)
    with pytest.raises(ValueError, match="Stiefel"):
        algorithm.fit(x, 2 * np.eye(4)[None, :, :2], mix, eta0=0.5, outer_iters=1)
    with pytest.raises(ValueError, match="eps must be > 0"):
        gmm.m_step(x[None, :, :2], np.ones((1, 2, 40)) / 2, 0.0)


@pytest.mark.parametrize(
    "init, names",
    [
        ("multistart-2", ["lda_kmeans", "pca", "random0", "random1"]),
        ("multistart-0", ["lda_kmeans", "pca"]),
        ("random-3", ["random0", "random1", "random2"]),
        ("lda-kmeans", ["lda_kmeans"]),
        ("pca", ["pca"]),
    ],
)
def test_init_axis_values(init, names):
    assert initialization.start_names(init) == names


@pytest.mark.parametrize("bad", ["random-0", "multistart", "lda_kmeans", "kmeans"])
def test_bad_init_values_name_the_grammar(bad):
    with pytest.raises(ValueError, match="multistart-<R>"):
        initialization.parse_init(bad)


def test_an_empty_component_gets_zero_weight_and_the_eps_floor():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((1, 40, 2))
    gamma = np.zeros((1, 3, 40))
    gamma[0, 0, :20], gamma[0, 1, 20:] = 1.0, 1.0  # component 2 takes no point
    previous = gmm.from_labels(z, (np.arange(40) % 3)[None], 3, 1e-3)
    mix = gmm.m_step(z, gamma, 1e-3, previous=previous)
    assert mix.pi[0, 2] == 0.0
    np.testing.assert_allclose(mix.sigma[0, 2], 1e-3 * np.eye(2))
    np.testing.assert_allclose(mix.mu[0, 2], previous.mu[0, 2])
    ev = gmm.evaluate(z, mix)
    assert np.isfinite(ev.ll_pen).all() and np.isfinite(ev.ll_plain).all()
    assert ev.gamma[0, 2].max() < 1e-100  # it never takes a point back
