"""dln_sgd: the packed SGD step, and the paper-scale variants (teacher spectrum, whitened data)."""

from __future__ import annotations

import numpy as np
import pytest

from initlab.studies.dln_sgd import (
    algorithms,
    design,
    diffusion,
    experiment,
    network,
    teacher,
)

D, H, DEPTH = 4, 6, 3


def _weights(rng, n=2, depth=DEPTH, d=D, h=H, scale=0.5):
    w = network.widths(d, h, depth)
    return [scale * rng.standard_normal((n, w[i + 1], w[i])) / np.sqrt(w[i]) for i in range(depth)]


class _Fixed:
    """A data source that hands out given (x, y) of shape (n_steps, S, d, B)."""

    def __init__(self, x, y):
        self.x, self.y, self.batch, self.i = x, y, x.shape[-1], 0

    def draw(self, n):
        out = self.x[self.i : self.i + n], self.y[self.i : self.i + n]
        self.i += n
        return out


@pytest.mark.parametrize("batch", [1, 3])
def test_sgd_steps_are_backpropagation_on_the_pre_step_weights(batch):
    rng = np.random.default_rng(1)
    w0 = _weights(rng, n=3)
    n_steps, eta = 4, 0.05
    x = rng.standard_normal((n_steps, 3, D, batch))
    y = rng.standard_normal((n_steps, 3, D, batch))
    ref = [a.copy() for a in w0]
    for i in range(n_steps):
        grads = network.gradients(ref, x[i], y[i])
        ref = [a - eta * g for a, g in zip(ref, grads)]
    w = [a.copy() for a in w0]
    snaps = list(algorithms.sgd(w, _Fixed(x, y), eta=eta, n_steps=n_steps, record_every=2))
    for a, b in zip(w, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # the records are the states before steps 0, 2 and after the last
    np.testing.assert_array_equal(np.concatenate([s.steps for s in snaps]), [0, 2, 4])
    np.testing.assert_allclose(snaps[-1].weights[1][-1], w[1], rtol=0, atol=0)
    np.testing.assert_allclose(snaps[0].weights[0][0], w0[0], rtol=0, atol=0)


def test_packed_weights_views_round_trip_and_store_tall_layers_transposed():
    rng = np.random.default_rng(2)
    w = _weights(rng, n=2, d=3, h=7)
    packed = algorithms.PackedWeights(w)
    assert packed.transposed == [True, False, False]  # W_1 is 7 x 3: stored as 3 x 7
    assert packed.flat.ndim == 1 and packed.flat.size == 2 * (7 * 3 + 7 * 7 + 3 * 7)
    for layer, a in zip(packed.layers, w):
        np.testing.assert_array_equal(layer, a)
        assert np.shares_memory(layer, packed.flat)
    for block in packed.stored:
        assert block.flags.c_contiguous
    records = np.stack([packed.flat, 2 * packed.flat])
    for layer, a in zip(packed.unpack(records), w):
        np.testing.assert_array_equal(layer[1], 2 * a)


def test_parse_variants():
    assert teacher.parse_spectrum("default") is None
    np.testing.assert_array_equal(teacher.parse_spectrum("100-90-80-70"), [100, 90, 80, 70])
    np.testing.assert_array_equal(teacher.parse_spectrum("4.5-1"), [4.5, 1.0])
    for bad in ("1-2", "100_90", "", "a-b"):
        with pytest.raises(ValueError):
            teacher.parse_spectrum(bad)
    assert teacher.parse_inputs("online") is None
    assert teacher.parse_inputs("whitened-20") == 20
    for bad in ("whitened", "whitened-1", "gaussian"):
        with pytest.raises(ValueError):
            teacher.parse_inputs(bad)


def test_whitened_dataset_is_white_and_sampled_in_epochs():
    rng = np.random.default_rng(3)
    x = teacher.whitened_inputs(rng, 20, 10)
    np.testing.assert_allclose(x.T @ x / 20, np.eye(10), atol=1e-12)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-12)
    with pytest.raises(ValueError, match="more samples"):
        teacher.whitened_inputs(rng, 5, 10)

    _, _, t = teacher.make_teacher(np.random.default_rng(0), 5, [3.0, 2.0, 1.0])
    gens = lambda base: [np.random.default_rng(base + k) for k in range(2)]  # noqa: E731
    data = teacher.FiniteData(gens(10), gens(20), t, n=20, sigma=0.5, batch=1)
    assert data.x_train.shape == (2, 16, 5) and data.x_all.shape == (2, 20, 5)
    # fixed labels: y = T x + sigma eps, the same sample every time it is drawn
    noise = (data.y_all - data.x_all @ t.T) / 0.5
    assert 0.6 < noise.std() < 1.4
    x1, y1 = data.draw(10)
    x2, y2 = data.draw(22)  # crosses epoch boundaries
    xs = np.concatenate([x1, x2])[..., 0]  # (32, S, d): two epochs of 16
    assert xs.shape == (32, 2, 5)
    for s in range(2):
        for epoch in (xs[:16, s], xs[16:, s]):  # every training sample exactly once per epoch
            rows = {tuple(np.round(r, 12)) for r in epoch}
            assert rows == {tuple(np.round(r, 12)) for r in data.x_train[s]}
    ys = np.concatenate([y1, y2])[..., 0]
    for s in range(2):  # each drawn label is its sample's fixed label
        idx = [int(np.argmin(np.abs(data.x_train[s] - r).sum(axis=1))) for r in xs[:, s]]
        np.testing.assert_array_equal(ys[:, s], data.y_train[s, idx])
    sxx, cyx = data.moments()
    np.testing.assert_allclose(sxx[0], data.x_train[0].T @ data.x_train[0] / 16)
    np.testing.assert_allclose(cyx[1], data.y_train[1].T @ data.x_train[1] / 16)


def test_empirical_diffusion_is_the_variance_over_the_samples():
    rng = np.random.default_rng(4)
    u, v, t = teacher.make_teacher(rng, D, [3.0, 2.0, 1.0])
    w = _weights(rng, n=2)
    x = rng.standard_normal((2, 12, D))
    y = x @ t.T + 0.3 * rng.standard_normal((2, 12, D))
    mean, var = diffusion.empirical_moments(w, u, v, x, y)
    for s in range(2):
        # g_k of each sample: the projection of its gradient on grad m_k (sigma folded into y)
        g = diffusion.projected_gradients(
            [a[s : s + 1] for a in w], np.zeros((D, D)), u, v, x[s], y[s], sigma=1.0
        )
        np.testing.assert_allclose(mean[s], g.mean(axis=0), rtol=1e-10)
        np.testing.assert_allclose(var[s], g.var(axis=0), rtol=1e-10)


def test_gd_on_a_finite_dataset_is_full_batch_gradient_descent():
    rng = np.random.default_rng(5)
    w = _weights(rng, n=2)
    x = rng.standard_normal((2, 16, D))
    y = rng.standard_normal((2, 16, D))
    sxx = np.einsum("sni,snj->sij", x, x) / 16
    cyx = np.einsum("sni,snj->sij", y, x) / 16
    grads = network.population_gradients(w, cyx, sxx)
    batch = network.gradients(w, x.transpose(0, 2, 1), y.transpose(0, 2, 1))
    for a, b in zip(grads, batch):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


STAIRCASE = dict(
    d=5,
    h=8,
    depth=3,
    teacher=[3.0, 2.0, 1.0],
    batch=1,
    sigma=0.0,
    init="gamma-2",
    eta=0.01,
    t_max=3.0,
    seeds=2,
    record_every=2,
    trace_dt=0.5,
    late_window=1.0,
    diffusion=True,
)


def test_experiments_take_the_variant_axes():
    key = ("dln_sgd", 0, "staircase")
    quiet = dict(log=lambda _: None)
    base = experiment.run("staircase", STAIRCASE, [0, 1], key=key, **quiet)
    same = experiment.run(
        "staircase", dict(STAIRCASE, spectrum="default", inputs="online"), [0, 1], key=key, **quiet
    )
    np.testing.assert_array_equal(base["m"].values, same["m"].values)
    big = experiment.run(
        "staircase", dict(STAIRCASE, spectrum="30-20-10", eta=0.001), [0, 1], key=key, **quiet
    )
    np.testing.assert_array_equal(big["s"].values, [30, 20, 10])
    finite = experiment.run(
        "staircase", dict(STAIRCASE, inputs="whitened-20"), [0, 1], key=key, **quiet
    )
    assert np.isfinite(finite["D"].values).all() and (finite["D"].values > 0).all()
    assert not np.allclose(finite["m"].values, base["m"].values)
    gd = experiment.run(
        "gd", dict(STAIRCASE, inputs="whitened-20", diffusion=False), [0, 1], key=key, **quiet
    )
    assert np.isfinite(gd["m"].values).all()
    with pytest.raises(ValueError, match="inputs must be online"):
        experiment.run(
            "diffusion",
            dict(STAIRCASE, t_state=0.1, samples=100, sigmas=[0.0], inputs="whitened-20"),
            [0],
            key=key,
            **quiet,
        )


def test_claims_read_the_default_variant():
    dims = ("depth", "init", "spectrum", "inputs", "seed")
    assert design.with_variants(dims, {"depth": 3}) == {
        "spectrum": "default",
        "inputs": "online",
        "depth": 3,
    }
    assert design.with_variants(dims, {"inputs": "whitened-20"})["inputs"] == "whitened-20"
    assert design.with_variants(("depth", "seed"), {"depth": 3}) == {"depth": 3}
