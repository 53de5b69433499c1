"""GEM energy network, noise distribution, interpolant and OT pairing (brief §2.1–2.4)."""

import itertools

import numpy as np
import pytest
import torch

from initlab.studies.graph_energy_matching.energy import GEMLite, energy_and_grad
from initlab.studies.graph_energy_matching.graphs import Graphs, one_hot
from initlab.studies.graph_energy_matching.interpolant import (
    NoiseDistribution,
    interpolate,
    sample_noise,
)
from initlab.studies.graph_energy_matching.pairing import ot_pairing, signatures

A, B, N = 4, 4, 9
torch.set_num_threads(1)


def _random_graphs(rng, b, n_nodes=None, noise=None):
    noise = noise or NoiseDistribution.uniform(A, B)
    sizes = rng.integers(3, N + 1, size=b) if n_nodes is None else np.asarray(n_nodes)
    return sample_noise(rng, sizes, noise, N)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return GEMLite(A, B, N, **kw).double()


@pytest.mark.parametrize("features", ["none", "degree"])
def test_energy_is_permutation_invariant_to_1e5(features):
    rng = np.random.default_rng(0)
    g = _random_graphs(rng, 6)
    model = _model(features=features)
    X, E, mask = one_hot(g.nodes, g.edges, A, B, dtype=torch.float64)
    e0 = model(X, E, mask)
    for b in range(len(g)):
        perm = torch.as_tensor(rng.permutation(N))  # also moves padding slots around
        Xp, Ep, mp = X[b : b + 1, perm], E[b : b + 1][:, perm][:, :, perm], mask[b : b + 1, perm]
        assert torch.allclose(model(Xp, Ep, mp), e0[b : b + 1], atol=1e-5, rtol=0)
    # the float32 network used in the runs agrees to the same tolerance
    m32 = _model(features=features).float()
    X32, E32 = X.float(), E.float()
    perm = torch.as_tensor(rng.permutation(N))
    assert torch.allclose(
        m32(X32[:, perm], E32[:, perm][:, :, perm], mask[:, perm]), m32(X32, E32, mask), atol=1e-5
    )


def test_energy_ignores_padding_content_and_gradients_are_masked_and_symmetric():
    rng = np.random.default_rng(1)
    g = _random_graphs(rng, 4, n_nodes=[3, 5, 7, 9])
    model = _model()
    X, E, mask = one_hot(g.nodes, g.edges, A, B, dtype=torch.float64)
    energy, gX, gE = energy_and_grad(model, X, E, mask)
    assert energy.shape == (4,)
    assert torch.all(gX[~mask] == 0)
    assert torch.allclose(gE, gE.transpose(1, 2))
    pair = mask[:, :, None] & mask[:, None, :]
    assert torch.all(gE[~pair] == 0)
    assert torch.all(torch.diagonal(gE, dim1=1, dim2=2) == 0)
    # garbage in padding slots does not change the energy
    X2, E2 = X.clone(), E.clone()
    X2[~mask] = 1.0
    E2[~pair] = 1.0
    assert torch.allclose(model(X2, E2, mask), energy, atol=1e-10)


def test_noise_distributions_have_the_stated_class_frequencies():
    rng = np.random.default_rng(2)
    train = Graphs(
        np.array([[0, 0, 1, -1], [2, 0, 0, 3]]),
        np.array(
            [
                [[0, 1, 0, -1], [1, 0, 2, -1], [0, 2, 0, -1], [-1, -1, -1, -1]],
                [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 3], [0, 0, 3, 0]],
            ]
        ),
    )
    m = NoiseDistribution.marginal(train, A, B)
    assert np.allclose(m.pi_x, [4 / 7, 1 / 7, 1 / 7, 1 / 7])
    # i<j pairs: 3 in the first graph (1, 0, 2), 6 in the second (1, 0, 0, 0, 0, 3)
    assert np.allclose(m.pi_e, [5 / 9, 2 / 9, 1 / 9, 1 / 9])
    g = sample_noise(
        rng, np.full(4000, N), NoiseDistribution("t", np.array([0.7, 0.1, 0.1, 0.1]), m.pi_e), N
    )
    assert abs((g.nodes == 0).mean() - 0.7) < 0.01
    iu = np.triu_indices(N, 1)
    pairs = g.edges[:, iu[0], iu[1]]
    assert np.allclose(np.bincount(pairs.ravel(), minlength=B) / pairs.size, m.pi_e, atol=0.01)
    assert np.array_equal(g.edges, g.edges.transpose(0, 2, 1))
    assert np.all(np.diagonal(g.edges, axis1=1, axis2=2) == 0)


@pytest.mark.parametrize("tau", [0.0, 0.3, 0.8, 1.0])
def test_interpolant_takes_data_labels_with_probability_tau(tau):
    rng = np.random.default_rng(3)
    b = 3000
    sizes = rng.integers(4, N + 1, size=b)
    g0 = sample_noise(rng, sizes, NoiseDistribution("zero", np.eye(A)[0], np.eye(B)[0]), N)
    g1 = sample_noise(rng, sizes, NoiseDistribution("one", np.eye(A)[1], np.eye(B)[1]), N)
    gt = interpolate(rng, g0, g1, np.full(b, tau))
    real = gt.mask
    assert np.array_equal(real, g1.mask)
    assert abs((gt.nodes[real] == 1).mean() - tau) < 0.02
    iu = np.triu_indices(N, 1)
    pairs = gt.edges[:, iu[0], iu[1]]
    assert abs((pairs[pairs >= 0] == 1).mean() - tau) < 0.02
    assert np.array_equal(gt.edges, gt.edges.transpose(0, 2, 1))
    assert np.all(np.diagonal(gt.edges, axis1=1, axis2=2)[real] == 0)


def test_ot_pairing_matches_brute_force_on_a_tiny_batch():
    rng = np.random.default_rng(4)
    sizes = np.array([3, 4, 3, 4, 3, 4, 3, 5])
    data = _random_graphs(
        rng,
        len(sizes),
        n_nodes=sizes,
        noise=NoiseDistribution(
            "m", np.array([0.7, 0.1, 0.15, 0.05]), np.array([0.6, 0.3, 0.07, 0.03])
        ),
    )
    noise = _random_graphs(rng, len(sizes), n_nodes=rng.permutation(sizes))
    perm = ot_pairing(noise, data, A, B)
    assert np.array_equal(noise.n_nodes[perm], data.n_nodes)
    s0, s1 = signatures(noise, A, B), signatures(data, A, B)
    cost = np.abs(s1[:, None, :] - s0[None, :, :]).sum(-1)
    got = cost[np.arange(len(sizes)), perm].sum()
    best = np.inf
    idx0 = {n: np.flatnonzero(noise.n_nodes == n) for n in np.unique(sizes)}
    idx1 = {n: np.flatnonzero(data.n_nodes == n) for n in np.unique(sizes)}
    per_bucket = []
    for n in idx1:
        per_bucket.append(
            min(
                sum(cost[i, j] for i, j in zip(idx1[n], p)) for p in itertools.permutations(idx0[n])
            )
        )
    best = sum(per_bucket)
    assert got == pytest.approx(best, abs=1e-12)


def test_signature_histograms_are_normalised():
    rng = np.random.default_rng(5)
    g = _random_graphs(rng, 5)
    s = signatures(g, A, B, weights=(1.0, 1.0, 1.0))
    assert np.allclose(s[:, :A].sum(1), 1)
    assert np.allclose(s[:, A : A + B].sum(1), 1)
    assert np.allclose(s[:, A + B :].sum(1), 1)


def test_degree_features_count_bonds_and_carry_no_gradient():
    from initlab.studies.graph_energy_matching.energy import degree_features, pair_mask

    # C-C=O plus a padding node: degrees (1 single), (1 single, 1 double), (1 double)
    g = Graphs(
        np.array([[0, 0, 2, -1]]),
        np.array([[[0, 1, 0, -1], [1, 0, 2, -1], [0, 2, 0, -1], [-1, -1, -1, -1]]]),
    )
    X, E, mask = one_hot(g.nodes, g.edges, A, B, dtype=torch.float64)
    f = degree_features(E, pair_mask(mask))
    assert f[0, :3].tolist() == [[1, 0, 0, 0.25], [1, 1, 0, 0.75], [0, 1, 0, 0.5]]
    assert f[0, 3].abs().sum() == 0
    # the gradient flows only through the raw one-hots: it equals the gradient of the same
    # network whose features are a constant computed beforehand
    import initlab.studies.graph_energy_matching.energy as energy_mod

    model = _model(features="degree")
    _, gX, gE = energy_and_grad(model, X, E, mask)
    frozen = degree_features(E, pair_mask(mask)).clone()
    original = energy_mod.degree_features
    energy_mod.degree_features = lambda E_, pm: frozen
    try:
        _, gX2, gE2 = energy_and_grad(model, X, E, mask)
    finally:
        energy_mod.degree_features = original
    assert torch.allclose(gX, gX2) and torch.allclose(gE, gE2)
