"""Unit tests of the DGC-F_rho building blocks (losses, network, algorithm, initialisation)."""

import numpy as np
import pytest

from initlab.studies.distributed_clustering import algorithm, data, losses, metrics, network
from initlab.studies.distributed_clustering.initialization import (
    cgc_init,
    dgc_init,
    dkmc_chain,
    parse_init,
    random_local,
)


def _batch(rng, s=2, m=4, n=6, k=3, d=2):
    y = rng.normal(size=(s, m, n, d))
    mask = np.ones((s, m, n), dtype=bool)
    x = rng.normal(size=(s, m, k, d))
    return x, y, mask


@pytest.mark.parametrize("loss", losses.LOSSES)
@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_loss_gradient_matches_finite_differences(loss, delta):
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.normal(size=3) * 2, rng.normal(size=3)
        r = np.linalg.norm(x - y)
        grad = losses.omega(r, loss, delta) * (x - y)
        h = 1e-6
        fd = np.array([
            (losses.value(np.linalg.norm(x + h * e - y), loss, delta)
             - losses.value(np.linalg.norm(x - h * e - y), loss, delta)) / (2 * h)
            for e in np.eye(3)
        ])  # fmt: skip
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", ["huber", "logistic", "fair"])
def test_loss_weight_is_finite_at_zero_and_bad_names_fail(loss):
    assert np.isfinite(losses.omega(np.array([0.0]), loss, 1.0)).all()
    with pytest.raises(ValueError, match="unknown loss"):
        losses.omega(np.array([1.0]), "l1")
    with pytest.raises(ValueError, match="delta > 0"):
        losses.value(np.array([1.0]), loss, 0.0)


def test_innovation_matches_per_point_sum():
    rng = np.random.default_rng(1)
    x, y, mask = _batch(rng)
    mask[0, 1, 4:] = False
    g, labels, _ = algorithm.innovation(x, y, mask, "fair", 0.7)
    s, i = 0, 1
    expect = np.zeros_like(x[s, i])
    for r in range(y.shape[2]):
        if mask[s, i, r]:
            k = np.argmin(((y[s, i, r] - x[s, i]) ** 2).sum(-1))
            assert labels[s, i, r] == k
            dist = np.linalg.norm(x[s, i, k] - y[s, i, r])
            expect[k] += losses.omega(dist, "fair", 0.7) * (x[s, i, k] - y[s, i, r])
    np.testing.assert_allclose(g[s, i], expect, atol=1e-12)


def test_consensus_step_preserves_network_average():
    """1^T L = 0: the consensus part leaves the users' mean unchanged; only innovation moves it."""
    rng = np.random.default_rng(2)
    x, y, mask = _batch(rng, m=5)
    lap = network.laplacian(network.ring(5))
    no_data = np.zeros_like(mask)
    x1 = algorithm.dgc_step(x, y, no_data, lap, alpha=0.1, rho=10)
    np.testing.assert_allclose(x1.mean(1), x.mean(1), atol=1e-14)
    assert not np.allclose(x1, x)  # the users did move towards each other
    x2 = algorithm.dgc_step(x, y, mask, lap, alpha=0.1, rho=10)
    g, _, _ = algorithm.innovation(x, y, mask)
    np.testing.assert_allclose(x2.mean(1), x.mean(1) - 0.01 * g.mean(1), atol=1e-14)


def test_user_without_data_moves_by_consensus_only():
    rng = np.random.default_rng(3)
    x, y, mask = _batch(rng, m=4)
    mask[:, 2] = False  # user 2 holds no data: documented behaviour, no innovation term
    lap = network.laplacian(network.ring(4))
    x1 = algorithm.dgc_step(x, y, mask, lap, alpha=0.05, rho=2)
    expect = x[:, 2] - 0.05 * algorithm.consensus(x, lap)[:, 2]
    np.testing.assert_allclose(x1[:, 2], expect, atol=1e-14)
    with pytest.raises(ValueError, match="user 1 holds 0 points"):
        random_local([np.ones((5, 2)), np.zeros((0, 2))], 3, rng)


def test_more_clusters_than_points_is_an_error():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="fewer than K=4"):
        random_local([rng.normal(size=(3, 2))], 4, rng)
    with pytest.raises(ValueError, match="fewer than K=5"):
        cgc_init("random", rng.normal(size=(4, 2)), 5, rng)


def test_disconnected_graph_is_an_error():
    a = network.ring(6)
    a[0, 1] = a[1, 0] = a[3, 4] = a[4, 3] = 0
    with pytest.raises(ValueError, match="disconnected"):
        network.check_connected(a)
    network.check_connected(network.ring(6))
    with pytest.raises(ValueError, match="symmetric"):
        network.laplacian(np.triu(network.ring(4)))


def test_step_above_bound_is_an_error_and_bound_values():
    lap = network.laplacian(network.ring(10))
    assert network.alpha_max(lap, 15, 10, 2.0) == pytest.approx(1 / 7, rel=1e-12)  # 0.143
    assert network.alpha_max(lap, 16, 100, 2.0) == pytest.approx(1 / 4.32, rel=1e-12)  # 0.231
    rng = np.random.default_rng(5)
    x, y, mask = _batch(rng, m=10, s=1)
    with pytest.raises(ValueError, match="not below the convergence bound"):
        algorithm.dgc(x, y, mask, lap, alpha=0.2, rho=10, steps=5, alpha_bound=1 / 7)
    with pytest.raises(ValueError, match="rho must be >= 1"):
        algorithm.dgc(x, y, mask, lap, alpha=0.01, rho=0.5, steps=5)


def test_descent_of_f_and_fixed_point():
    rng = np.random.default_rng(6)
    x, y, mask = _batch(rng, s=3, m=5, n=8)
    lap = network.laplacian(network.ring(5))
    a_max = network.alpha_max(lap, 8, 5.0, 2.0)
    tr = algorithm.dgc(x, y, mask, lap, alpha=0.5 * a_max, rho=5.0, steps=200, record_every=50,
                       check_descent=True)  # fmt: skip
    assert tr.max_rel_increase.max() <= 1e-12
    assert np.all(np.diff(tr.f, axis=0) <= 1e-12 * np.abs(tr.f[:-1]))
    # J_rho counts each edge twice: J - F = F's consensus part
    assert np.all(tr.j_rho >= tr.f)


def test_dgc_one_user_equals_cgc_and_huber_identity():
    rng = np.random.default_rng(7)
    pts = rng.normal(size=(30, 2))
    x0 = pts[:3][None]
    c = algorithm.cgc(x0, pts, alpha=0.005, steps=50, record_every=50).centres[-1]
    d = algorithm.step_loop(x0[:, None], pts[None, None], np.ones((1, 1, 30), bool), np.zeros((1, 1)),
                            alpha=0.005, rho=1.0, steps=50)  # fmt: skip
    assert np.abs(c - d).max() == 0.0
    x, y, mask = _batch(rng, m=4)
    lap = network.laplacian(network.ring(4))
    km = algorithm.step_loop(x, y, mask, lap, alpha=0.01, rho=6.0, steps=30)
    hu = algorithm.step_loop(x, y, mask, lap, alpha=0.01, rho=3.0, steps=30, loss="huber", delta=1e9)
    assert np.abs(km - hu).max() <= 1e-12


def test_accuracy_hungarian_and_empty_cluster():
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert metrics.accuracy(np.array([2, 2, 0, 0, 1, 1]), truth, 3) == 1.0
    # an empty cluster (label 2 unused) is allowed: best matching 4/6
    assert metrics.accuracy(np.array([0, 0, 1, 1, 1, 1]), truth, 3) == pytest.approx(4 / 6)
    lab = np.array([[1, 1, 0, 0, 0, 2]])
    slow = metrics.accuracy(lab, truth, 3, n_classes=4)  # Hungarian branch
    assert metrics.accuracy(lab, truth, 3)[0] == pytest.approx(slow[0]) == pytest.approx(5 / 6)


def test_splits_have_the_papers_counts():
    assert data.HET_COUNTS.sum(0).tolist() == [50, 50, 50]
    labels = np.repeat(np.arange(3), 50)
    parts = data.split_indices(labels, data.HET_COUNTS, np.random.default_rng(0))
    assert sorted(np.concatenate(parts).tolist()) == list(range(150))
    for p, row in zip(parts, data.HET_COUNTS):
        assert np.bincount(labels[p], minlength=3).tolist() == row.tolist()


def test_init_names_and_nested_dkmc_chain():
    assert parse_init("dkmc-L3-greedy") == {"scheme": "dkmc", "L": 3, "variant": "greedy"}
    assert parse_init("kmpp-L0")["scheme"] == "kmpp"
    for bad in ("random-greedy", "dkmc_L1", "kmpp"):
        with pytest.raises(ValueError, match="unknown init"):
            parse_init(bad)
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=(10, 2)) + i for i in range(4)]
    adj = network.ring(4)
    chain = dkmc_chain(parts, adj, 3, 3, np.random.default_rng(9))
    short = dkmc_chain(parts, adj, 3, 1, np.random.default_rng(9))
    np.testing.assert_array_equal(chain[1], short[1])  # the L sweep is nested
    np.testing.assert_array_equal(dgc_init("dkmc-L2", parts, adj, 3, np.random.default_rng(9)), chain[2])


def test_scaleup_graphs_are_connected_and_splits_are_equal():
    from initlab.studies.distributed_clustering import scaleup

    for kind in scaleup.GRAPHS:
        a = scaleup.graph(kind, 50, lambda j: np.random.default_rng(100 + j), p=0.1, radius=0.25)
        network.check_connected(a)
        stats = scaleup.graph_stats(a)
        assert stats["lambda_2"] > 1e-9 and stats["lambda_max"] <= 2 * stats["max_degree"] + 1e-9
    with pytest.raises(ValueError, match="no connected sample"):
        scaleup.graph("er", 30, lambda j: np.random.default_rng(j), p=0.001, max_tries=3)
    labels = np.repeat(np.arange(10), 100)
    for split in ("hom", "het"):
        parts = scaleup.shard_split(labels, 20, split, np.random.default_rng(0))
        assert [len(p) for p in parts] == [50] * 20
        assert len(np.unique(np.concatenate(parts))) == 1000
    het = scaleup.shard_split(labels, 20, "het", np.random.default_rng(0))
    assert max(len(np.unique(labels[p])) for p in het) <= 2
