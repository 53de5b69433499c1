"""dln_sgd: the deep linear network, its gradients, the closed-form diffusion, SGD/GD and divergence."""

from __future__ import annotations

import numpy as np
import pytest

from initlab import results
from initlab.studies.dln_sgd import (
    algorithms,
    diffusion,
    experiment,
    initialization,
    network,
    teacher,
)

D, H, DEPTH = 4, 6, 3


def _weights(rng, n=1, scale=0.5, depth=DEPTH, d=D, h=H):
    w = network.widths(d, h, depth)
    return [scale * rng.standard_normal((n, w[i + 1], w[i])) / np.sqrt(w[i]) for i in range(depth)]


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    u, v, t = teacher.make_teacher(rng, D, [3.0, 2.0, 1.0])
    return rng, u, v, t


def test_teacher_has_orthonormal_factors_and_the_given_spectrum(problem):
    _, u, v, t = problem
    np.testing.assert_allclose(u.T @ u, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(t, compute_uv=False)[:3], [3, 2, 1], atol=1e-12)
    with pytest.raises(ValueError, match="strictly decreasing"):
        teacher.check_strengths([1.0, 2.0])


def test_parse_init_and_jacot_scale():
    assert initialization.parse_init("gamma-2.5") == ("gamma", 2.5)
    assert initialization.parse_init("aligned-0.001") == ("aligned", 0.001)
    assert initialization.parse_init("aligned-s") == ("aligned", None)
    for bad in ("gamma-s", "spectral", "aligned-0", "gamma-"):
        with pytest.raises(ValueError):
            initialization.parse_init(bad)
    rngs = [np.random.default_rng(k) for k in range(400)]
    w = initialization.jacot_init(rngs, [5, 16, 16, 5], 2.0)
    # Var = min(fan_in, fan_out)^(-gamma): 5^-2 for the outer layers, 16^-2 inside
    np.testing.assert_allclose(w[0].var(), 5.0**-2, rtol=0.05)
    np.testing.assert_allclose(w[1].var(), 16.0**-2, rtol=0.05)
    # the same draws for every gamma: only the scale changes
    w1 = initialization.jacot_init([np.random.default_rng(k) for k in range(3)], [5, 16, 5], 1.0)
    w3 = initialization.jacot_init([np.random.default_rng(k) for k in range(3)], [5, 16, 5], 3.0)
    np.testing.assert_allclose(w3[0], w1[0] * 5.0**-1.0)


def test_gradients_match_finite_differences(problem):
    rng, _, _, t = problem
    w = _weights(rng)
    x = rng.standard_normal((1, D, 3))
    y = rng.standard_normal((1, D, 3))

    def loss(ws):
        return 0.5 * np.sum((network.end_to_end(ws) @ x - y) ** 2) / x.shape[-1]

    grads = network.gradients(w, x, y)
    pop = network.population_gradients(w, t)
    eps = 1e-6
    for l in range(DEPTH):
        for idx in [(0, 0, 0), (0, 1, 2), (0, w[l].shape[1] - 1, w[l].shape[2] - 1)]:
            plus = [a.copy() for a in w]
            minus = [a.copy() for a in w]
            plus[l][idx] += eps
            minus[l][idx] -= eps
            fd = (loss(plus) - loss(minus)) / (2 * eps)
            assert grads[l][idx] == pytest.approx(fd, rel=1e-6, abs=1e-9)
            fd_pop = (
                network.population_loss(network.end_to_end(plus), t)
                - network.population_loss(network.end_to_end(minus), t)
            )[0] / (2 * eps)
            assert pop[l][idx] == pytest.approx(fd_pop, rel=1e-6, abs=1e-9)


def test_projected_gradient_is_the_inner_product_with_grad_of_the_mode(problem):
    """g_k = r^T J_k x equals <psi_k, grad l> with psi_k = grad m_k by finite differences."""
    rng, u, v, t = problem
    w = _weights(rng)
    sigma = 0.7
    x = rng.standard_normal((5, D))
    eps = rng.standard_normal((5, D))
    g = diffusion.projected_gradients(w, t, u, v, x, eps, sigma=sigma)
    # per-sample gradients (each sample its own batch member, B = 1)
    wb = [np.broadcast_to(a, (5,) + a.shape[1:]) for a in w]
    y = x @ t.T + sigma * eps
    grads = network.gradients(wb, x[:, :, None], y[:, :, None])
    h = 1e-6
    for k in range(3):
        direct = np.zeros(5)
        for l in range(DEPTH):
            psi = np.zeros(w[l].shape[1:])
            for i in range(psi.shape[0]):
                for j in range(psi.shape[1]):
                    plus = [a.copy() for a in w]
                    minus = [a.copy() for a in w]
                    plus[l][0, i, j] += h
                    minus[l][0, i, j] -= h
                    mp = network.mode_strengths(network.end_to_end(plus), u, v)[0, k]
                    mm = network.mode_strengths(network.end_to_end(minus), u, v)[0, k]
                    psi[i, j] = (mp - mm) / (2 * h)
            direct += np.einsum("ij,nij->n", psi, grads[l])
        np.testing.assert_allclose(g[:, k], direct, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_closed_form_diffusion_matches_many_samples(problem, sigma):
    """E g_k and Var g_k in closed form against 1e6 fresh Gaussian (x, eps), off alignment."""
    rng, u, v, t = problem
    w = _weights(rng, scale=0.8)
    mean, var = diffusion.gradient_moments(w, t, u, v, sigma=sigma)
    n = 1_000_000
    x, eps = rng.standard_normal((n, D)), rng.standard_normal((n, D))
    g = diffusion.projected_gradients(w, t, u, v, x, eps, sigma=sigma)
    np.testing.assert_allclose(var[0], g.var(axis=0), rtol=0.02)
    assert np.all(np.abs(mean[0] - g.mean(axis=0)) < 4 * np.sqrt(var[0] / n))


def test_aligned_formula_is_the_closed_form_on_aligned_balanced_weights(problem):
    """W_l = R_{l+1} diag(a) R_l^T: D_k = (eta/B) L^2 u^(4-4/L) [2 (s-u)^2 + sigma^2]."""
    rng, u, v, t = problem
    s = np.array([3.0, 2.0, 1.0])
    a = np.array([0.7, 1.1, 0.4])
    q = [np.linalg.qr(rng.standard_normal((H, 3)))[0] for _ in range(DEPTH - 1)]
    frames = [v] + q + [u]  # R_1 = V, ..., R_{L+1} = U
    w = [(frames[l + 1] * a) @ frames[l].T for l in range(DEPTH)]
    w = [x[None] for x in w]
    m = network.mode_strengths(network.end_to_end(w), u, v)[0]
    np.testing.assert_allclose(m, a**DEPTH, rtol=1e-12)
    for sigma in (0.0, 0.3):
        _, var = diffusion.gradient_moments(w, t, u, v, sigma=sigma)
        expected = diffusion.aligned_diffusion(a**DEPTH, s, DEPTH, eta=1.0, batch=1, sigma=sigma)
        np.testing.assert_allclose(var[0], expected, rtol=1e-10)
    assert [round(diffusion.peak_fraction(L), 3) for L in (2, 3, 4)] == [0.5, 0.571, 0.6]
    assert [round(diffusion.critical_noise(L), 2) for L in (2, 3, 4)] == [0.41, 0.33, 0.30]


def test_gradient_flow_conserves_the_balance_gaps(problem):
    """W_{l+1}^T W_{l+1} - W_l W_l^T is invariant under gradient flow (to integration accuracy),
    while the weights themselves move by O(1)."""
    rng, _, _, t = problem
    w0 = _weights(rng, scale=0.6)
    w1 = algorithms.gradient_flow(w0, t, 3.0, rtol=1e-10, atol=1e-12)
    move = max(np.abs(a - b).max() for a, b in zip(w0, w1))
    assert move > 0.1
    for g0, g1 in zip(network.balance_gaps(w0), network.balance_gaps(w1)):
        assert np.abs(g1 - g0).max() < 1e-7 * max(1.0, np.abs(g0).max())


def _data(seeds, t, sigma=0.0, batch=1):
    return teacher.OnlineData(
        [np.random.default_rng(10 + k) for k in seeds],
        [np.random.default_rng(100 + k) for k in seeds],
        t,
        sigma=sigma,
        batch=batch,
    )


def test_sgd_on_a_batch_of_seeds_equals_each_seed_alone(problem):
    rng, _, _, t = problem
    seeds = [0, 1, 2]
    w0 = _weights(rng, n=3, scale=0.3)
    batched = [a.copy() for a in w0]
    for _ in algorithms.sgd(batched, _data(seeds, t, 0.2), eta=0.01, n_steps=300, record_every=50):
        pass
    for j, k in enumerate(seeds):
        alone = [a[j : j + 1].copy() for a in w0]
        for _ in algorithms.sgd(alone, _data([k], t, 0.2), eta=0.01, n_steps=300, record_every=50):
            pass
        for a, b in zip(alone, batched):
            np.testing.assert_allclose(a[0], b[j], rtol=1e-12, atol=1e-14)


def _torch_devices():
    torch = pytest.importorskip("torch")
    cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
    return ["cpu", pytest.param("cuda", marks=cuda)]


def _both_backends(w0, t, device, *, sigma, batch=1, **kwargs):
    """``{backend: (final weights, snapshots)}`` of numpy and of torch on ``device``, from ``w0``
    and the same draws."""
    runs = {}
    for backend, dev in (("numpy", "cpu"), ("torch", device)):
        w = [a.copy() for a in w0]
        data = _data([0, 1, 2], t, sigma, batch)
        runs[backend] = w, list(algorithms.sgd(w, data, backend=backend, device=dev, **kwargs))
    return runs


@pytest.mark.parametrize("device", _torch_devices())
@pytest.mark.parametrize("batch", [1, 3])
def test_torch_backend_takes_the_same_steps_as_numpy(problem, device, batch):
    rng, _, _, t = problem
    w0 = _weights(rng, n=3, scale=0.3)
    runs = _both_backends(
        w0,
        t,
        device,
        sigma=0.2,
        batch=batch,
        eta=0.01,
        n_steps=300,
        record_every=7,
        block_records=5,
    )
    (w_np, s_np), (w_t, s_t) = runs["numpy"], runs["torch"]
    assert len(s_np) == len(s_t) == 9  # 43 records in blocks of 5
    for a, b in zip(s_np, s_t):
        np.testing.assert_array_equal(a.steps, b.steps)
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-12)
    for x, y, start in zip(w_np, w_t, w0):
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-12)
        assert np.abs(x - start).max() > 1e-3  # the weights did move


@pytest.mark.parametrize("device", _torch_devices())
def test_torch_backend_flags_divergence_like_numpy(problem, device):
    rng, _, _, t = problem
    w0 = _weights(rng, n=3, scale=0.3)
    w0[0][1] *= 30.0  # seed 1 starts far out: at eta = 0.2 it diverges first
    runs = _both_backends(
        w0, t, device, sigma=0.0, eta=0.2, n_steps=200, record_every=5, block_records=4
    )
    flagged = {}
    for backend, (w, snaps) in runs.items():
        assert np.isnan(w[0]).all(axis=(1, 2)).all()
        flagged[backend] = snaps[-1].diverged_step.tolist()
    assert flagged["torch"] == flagged["numpy"]
    assert flagged["numpy"][1] < min(flagged["numpy"][0], flagged["numpy"][2])


def test_sgd_rejects_an_unknown_backend_or_a_gpu_for_numpy(problem):
    rng, _, _, t = problem
    data = _data([0], t, 0.0)
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'torch'"):
        algorithms.sgd(_weights(rng), data, eta=0.01, n_steps=1, backend="jax")
    with pytest.raises(ValueError, match="numpy backend runs on the cpu"):
        algorithms.sgd(_weights(rng), data, eta=0.01, n_steps=1, device="cuda")


def test_records_are_taken_every_record_every_steps_including_the_last(problem):
    rng, _, _, t = problem
    w = _weights(rng, n=2)
    snaps = list(algorithms.gd(w, t, eta=0.01, n_steps=10, record_every=3, block_records=2))
    steps = np.concatenate([s.steps for s in snaps])
    np.testing.assert_array_equal(steps, [0, 3, 6, 9])
    snaps = list(
        algorithms.gd(_weights(rng, n=2), t, eta=0.01, n_steps=12, record_every=3, block_records=2)
    )
    np.testing.assert_array_equal(np.concatenate([s.steps for s in snaps]), [0, 3, 6, 9, 12])


STAIRCASE = dict(
    d=4,
    h=6,
    depth=3,
    teacher=[3.0, 2.0, 1.0],
    batch=1,
    sigma=0.0,
    init="gamma-1",
    t_max=2.0,
    seeds=3,
    record_every=2,
    trace_dt=0.1,
    late_window=0.5,
    diffusion=True,
)


def test_a_diverging_learning_rate_is_flagged_and_recorded_as_nan(tmp_path):
    params = dict(STAIRCASE, eta=0.5, t_max=50.0)
    ds = experiment.run(
        "staircase", params, [0, 1, 2], key=("dln_sgd", 0, "staircase"), log=lambda _: None
    )
    assert ds["diverged"].values.tolist() == [1, 1, 1]
    assert np.all(np.isfinite(ds["t_diverged"].values))
    for name, var in ds.data_vars.items():
        if var.dtype.kind == "f":
            assert not np.isinf(var.values).any(), name
    assert np.isnan(ds["m"].isel(time=-1)).all() and np.isnan(ds["t_learn90"]).all()
    assert np.isnan(ds["late_dev_max"]).all()  # a diverged run cannot pass A5
    # the run file contract refuses infinities; this one is written
    results.write_run(
        ds,
        tmp_path / "run.nc",
        study="dln_sgd",
        experiment="staircase",
        axes={"depth": 3, "init": "gamma-1"},
        params=params,
        git_commit="test",
        device="cpu",
        wall_seconds=0.0,
    )
    # and a small learning rate does not diverge
    ok = experiment.run(
        "staircase",
        dict(params, eta=0.01),
        [0],
        key=("dln_sgd", 0, "staircase"),
        log=lambda _: None,
    )
    assert ok["diverged"].values.tolist() == [0]


def test_staircase_run_learns_the_modes_in_order():
    params = dict(STAIRCASE, d=5, h=16, init="gamma-3", eta=0.01, t_max=20.0, seeds=2, trace_dt=0.5)
    ds = experiment.run(
        "staircase", params, [0, 1], key=("dln_sgd", 0, "staircase"), log=lambda _: None
    )
    t = ds["t_learn90"].values
    assert np.all(np.isfinite(t)) and np.all(np.diff(t, axis=1) > 0)
    assert np.all(ds["t_peak"].values < t)
    assert ds["late_dev_max"].max() < 1e-3
    assert set(ds.dims) == {"seed", "mode", "time"}


def test_staircase_on_a_gpu_matches_the_cpu_run():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    params = dict(STAIRCASE, eta=0.01)
    runs = [
        experiment.run("staircase", params, [0, 1], key=("dln_sgd", 0, "staircase"), device=dev)
        for dev in ("cpu", "cuda")
    ]
    np.testing.assert_allclose(runs[1]["m"].values, runs[0]["m"].values, rtol=0, atol=1e-10)


def test_experiment_rejects_bad_inputs():
    with pytest.raises(ValueError, match="unknown dln_sgd experiment"):
        experiment.run("nope", dict(STAIRCASE, eta=0.01), [0], key=("k",))
    with pytest.raises(ValueError, match="init must be gamma"):
        experiment.run("staircase", dict(STAIRCASE, eta=0.01, init="aligned-s"), [0], key=("k",))
    with pytest.raises(ValueError, match="device must be 'cpu' .numpy. or 'cuda'"):
        experiment.run("staircase", dict(STAIRCASE, eta=0.01), [0], key=("k",), device="tpu")
