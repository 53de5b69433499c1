"""One sweep point of a ``scaled_gd`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.scaled_gd.experiments``):

``conditioning`` (B1 kappa sweep, B4 RGD, B6 init axis)
    n1 x n2 problems at one ``c`` and ``kappa``; one batched run over the seeds.
``phase_transition`` (B2, B2i, B5)
    loops over ``c_grid``; at each ``c`` the seeds are independent trials, run as one batch.
``psd`` (B3)
    symmetric PSD problems ``X* = U* S U*^T`` with symmetric sensing; ``c`` is ``c_psd = m/(n r)``.

Random streams (`initlab.rng.generator`, keys prefixed by ``key``):

conditioning, psd
    ``("operator", c, seed)``, ``("truth", seed)``, ``("init", seed)``. Every method, init and
    kappa sees the same operator A for a seed (brief §7 "same A across kappa"); U*, V* are also
    shared across kappa and c (only sigma changes with kappa), which isolates kappa further (the
    brief allows new or shared U*, V* per kappa; we share them).
phase_transition
    ``("operator", r, kappa, c, seed)``, ``("truth", r, kappa, c, seed)``,
    ``("init", r, kappa, c, seed)``: an independent problem per (r, kappa, c, trial), and the same
    problem for every method and init, so B2i and B5 are compared with B2 on equal problems.

Seeds run as batches of shape (B, m, n1 n2) (brief §2.7). ``max_operator_gb`` (default 4) is the
hard memory limit of one batch's operator. ``batch_mb`` (default `BATCH_MB`) is a speed target:
an iteration streams the operator twice and is memory-bound, so a batch that stays in the CPU's
last-level cache runs about twice as fast per member as one that does not (measured on a 32 MB
L3: GD at n1 = n2 = 40, m = 1200, three seeds, 4.8 s batched vs 2.2 s one by one). Batching
still amortises Python overhead for the small phase-transition operators. Results do not depend
on the batching: every member has its own streams.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from initlab import rng as rngs

from . import algorithms
from .initialization import parse_init, random_init, spectral_init, spectral_init_psd
from .problem import (
    adjoint,
    forward,
    gaussian_operator,
    ground_truth,
    max_batch,
    num_measurements,
    num_measurements_psd,
    operator_bytes,
    singular_values,
    symmetric_operator,
)

__all__ = ["EXPERIMENTS", "METHODS", "c50", "run"]

#: Experiment names accepted by `run`.
EXPERIMENTS = ("conditioning", "phase_transition", "psd")
#: Default target size of one batch's operator in MB (setting ``batch_mb``).
BATCH_MB = 8.0
#: Values of the sweep axis ``method``.
METHODS = ("scaledgd", "scaledgd-damped", "gd", "rgd")


def c50(c_grid: Sequence[float], success_fraction: Sequence[float]) -> float:
    """Sample-size threshold: the first crossing of success fraction 0.5 (brief §2.6).

    Walk the sorted ``c_grid``; if the first point is already >= 0.5 return it, otherwise
    interpolate linearly between the last point below 0.5 and the first at or above it. NaN if
    no point reaches 0.5 (a FAIL for any claim built on it).
    """
    c = np.asarray(c_grid, dtype=float)
    f = np.asarray(success_fraction, dtype=float)
    if c.shape != f.shape or c.ndim != 1:
        raise ValueError(
            f"c_grid and success_fraction must be 1-d of equal length: {c.shape}, {f.shape}"
        )
    order = np.argsort(c, kind="stable")
    c, f = c[order], f[order]
    for i in range(len(c)):
        if f[i] >= 0.5:
            if i == 0:
                return float(c[0])
            return float(c[i - 1] + (0.5 - f[i - 1]) / (f[i] - f[i - 1]) * (c[i] - c[i - 1]))
    return float("nan")


def run(
    experiment: str,
    params: dict,
    seeds: list[int],
    *,
    key: tuple,
    threads: int = 1,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> xr.Dataset:
    """Run one sweep point and return its results (no sweep-axis dims; the framework adds them).

    Parameters
    ----------
    experiment : ``"conditioning"``, ``"phase_transition"`` or ``"psd"``.
    params : the experiment's settings merged with the point's axis values (``init``, ``method``,
        ``c``/``r``, ``kappa``), keys as in ``config.yaml``; optional ``max_operator_gb`` and
        ``batch_mb`` (see the module docstring).
    seeds : problem seeds; the result's ``seed`` coordinate.
    key : stream prefix, e.g. ``("scaled_gd", master_seed, experiment)``.
    threads : accepted for the framework's interface; BLAS threads are set by the environment
        (e.g. ``OPENBLAS_NUM_THREADS``) before numpy loads, and this function leaves them as is.
    device : only ``"cpu"`` is implemented (dense float64 numpy).
    log : progress sink, one line per batch (conditioning, psd) or per ``c`` (phase_transition).
    """
    if device != "cpu":
        raise ValueError(f"scaled_gd: device {device!r} is not implemented, only 'cpu'")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"unknown scaled_gd experiment {experiment!r}; expected one of {EXPERIMENTS}"
        )
    if params["method"] not in METHODS:
        raise ValueError(f"unknown method {params['method']!r}; expected one of {METHODS}")
    parse_init(params["init"])  # fail early on a bad init value
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    if experiment == "phase_transition":
        return _phase_transition(params, seeds, key, log)
    return _rate(experiment, params, seeds, key, log)


def _batches(seeds: list[int], m: int, n_entries: int, params: dict):
    """Split ``seeds`` into batches whose operators fit both ``max_operator_gb`` (a hard limit,
    raises if one member does not fit) and ``batch_mb`` (a speed target, see module docstring)."""
    size = max_batch(m, n_entries, float(params.get("max_operator_gb", 4.0)), len(seeds))
    target = float(params.get("batch_mb", BATCH_MB)) * 1e6
    size = max(1, min(size, int(target // operator_bytes(1, m, n_entries))))
    for i in range(0, len(seeds), size):
        yield seeds[i : i + size]


def _initial_factors(init, a, y, n1, n2, r, init_rngs, psd):
    """``(L0, R0)`` (B, n1, r), (B, n2, r); ``R0`` is None in the PSD case (brief §2.4)."""
    scheme, alpha = parse_init(init)
    if scheme == "spectral":
        if psd:
            return spectral_init_psd(a, y, n1, r), None
        return spectral_init(a, y, (n1, n2), r)
    lefts, rights = [], []
    for g in init_rngs:
        lefts.append(random_init(g, n1, r, alpha))
        if not psd:
            rights.append(random_init(g, n2, r, alpha))
    return np.stack(lefts), (None if psd else np.stack(rights))


def _gd_sigma1(params, a, y, sigma, shape):
    """GD's sigma_1: oracle sigma_1(X*) (Tong et al. code) or sigma_1(A^*(y)) (brief §2.5)."""
    choice = params.get("gd_sigma1", "oracle")
    if choice == "oracle":
        return sigma[:, 0]
    if choice == "spectral":
        return np.linalg.norm(adjoint(a, y, shape), ord=2, axis=(1, 2))
    raise ValueError(f"gd_sigma1 must be 'oracle' or 'spectral', got {choice!r}")


def _solve(params, a, y, x_star, sigma, left, right, *, eps, t_max) -> algorithms.Trace:
    """Run ``params["method"]`` on a batch; ``right is None`` selects the PSD solvers."""
    method, eta = params["method"], float(params["eta"])
    psd = right is None
    if method in ("scaledgd", "scaledgd-damped"):
        lam = float(params["lam"]) * sigma[:, -1] if method == "scaledgd-damped" else 0.0
        if psd:
            return algorithms.scaled_gd_psd(
                a, y, x_star, left, eta=eta, lam=lam, eps=eps, t_max=t_max
            )
        return algorithms.scaled_gd(
            a, y, x_star, left, right, eta=eta, lam=lam, eps=eps, t_max=t_max
        )
    if method == "gd":
        sigma1 = _gd_sigma1(params, a, y, sigma, x_star.shape[1:])
        if psd:
            return algorithms.gd_psd(
                a, y, x_star, left, eta=eta, sigma1=sigma1, eps=eps, t_max=t_max
            )
        return algorithms.gd(
            a, y, x_star, left, right, eta=eta, sigma1=sigma1, eps=eps, t_max=t_max
        )
    if psd:
        raise ValueError(f"method {method!r} has no PSD variant")
    return algorithms.rgd(a, y, x_star, left, right, eps=eps, t_max=t_max)


def _problems(op_rngs, truth_rngs, *, psd, n1, n2, sigma, m, max_gb):
    """Operators, measurements and truths of a batch, one generator pair per member.

    Returns ``a`` (B, m, n1 n2), ``y`` (B, m), ``x_star`` (B, n1, n2), ``sigma`` (B, r).
    """
    if psd:
        a = symmetric_operator(op_rngs, m, n1, max_gb=max_gb)
    else:
        a = gaussian_operator(op_rngs, m, n1, n2, max_gb=max_gb)
    x_star = np.stack([ground_truth(g, n1, n2, sigma, psd=psd)[2] for g in truth_rngs])
    return a, forward(a, x_star), x_star, np.tile(sigma, (len(truth_rngs), 1))


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, values, {"long_name": long_name, "units": units}


def _rate(experiment, params, seeds, key, log) -> xr.Dataset:
    """conditioning (B1, B4, B6) and psd (B3): full traces to ``eps``."""
    psd = experiment == "psd"
    r, c, kappa = int(params["r"]), float(params["c"]), float(params["kappa"])
    if psd:
        n1 = n2 = int(params["n"])
        m = num_measurements_psd(c, n1, r)
    else:
        n1, n2 = int(params["n1"]), int(params["n2"])
        m = num_measurements(c, n1, n2, r)
    eps, t_max = float(params["eps"]), int(params["t_max"])
    max_gb = float(params.get("max_operator_gb", 4.0))
    sizes = dict(psd=psd, n1=n1, n2=n2, sigma=singular_values(r, kappa), m=m, max_gb=max_gb)
    traces = []
    for chunk in _batches(seeds, m, n1 * n2, params):
        a, y, x_star, sigma = _problems(
            [rngs.generator(*key, "operator", c, s) for s in chunk],
            [rngs.generator(*key, "truth", s) for s in chunk],
            **sizes,
        )
        init_rngs = [rngs.generator(*key, "init", s) for s in chunk]
        left, right = _initial_factors(params["init"], a, y, n1, n2, r, init_rngs, psd)
        tr = _solve(params, a, y, x_star, sigma, left, right, eps=eps, t_max=t_max)
        del a
        traces.append(tr)
        log(
            f"scaled_gd/{experiment} {params['method']} init={params['init']} c={c:g} "
            f"kappa={kappa:g} m={m} seeds={chunk}: iters_to_eps={tr.iters_to_eps.tolist()} "
            f"diverged={tr.diverged.astype(int).tolist()} cpu_s={tr.cpu_s.sum():.2f}"
        )
    cat = {
        f: np.concatenate([getattr(t, f) for t in traces])
        for f in ("rel_err", "iters_to_eps", "diverged", "init_err", "cpu_s")
    }
    seed = ("seed",)
    return xr.Dataset(
        {
            "rel_err": _var(
                ("seed", "iter"), cat["rel_err"], "relative error ||X_t - X*||_F / ||X*||_F"
            ),
            "iters_to_eps": _var(
                seed,
                cat["iters_to_eps"].astype(np.int64),
                "first iteration with rel_err < eps (-1: not reached)",
                "iterations",
            ),
            "diverged": _var(
                seed,
                cat["diverged"].astype(np.int8),
                "1 if diverged (rel_err non-finite or > 1e3, or a singular system), else 0",
            ),
            "cpu_s": _var(seed, cat["cpu_s"], "CPU time of the iteration loop per run", "s"),
            "init_err": _var(seed, cat["init_err"], "relative error at t = 0"),
            "eps": _var((), eps, "target relative error eps"),
            "t_max": _var((), np.int64(t_max), "iteration budget T_max", "iterations"),
        },
        coords={
            "seed": _var(seed, np.asarray(seeds, dtype=np.int64), "problem seed"),
            "iter": _var(("iter",), np.arange(t_max + 1), "iteration t", "iterations"),
        },
    )


def _phase_transition(params, seeds, key, log) -> xr.Dataset:
    """B2 / B2i / B5: success of recovery to ``tol`` within ``t_max`` over ``c_grid`` (§2.6)."""
    n1, n2, r = int(params["n1"]), int(params["n2"]), int(params["r"])
    kappa, tol, t_max = float(params["kappa"]), float(params["tol"]), int(params["t_max"])
    c_grid = [float(c) for c in params["c_grid"]]
    max_gb = float(params.get("max_operator_gb", 4.0))
    sizes = dict(psd=False, n1=n1, n2=n2, sigma=singular_values(r, kappa), max_gb=max_gb)
    shape = (len(seeds), len(c_grid))
    iters = np.full(shape, -1, dtype=np.int64)
    final_err, init_err = np.full(shape, np.nan), np.full(shape, np.nan)
    for j, c in enumerate(c_grid):
        m = num_measurements(c, n1, n2, r)
        start = 0
        for chunk in _batches(seeds, m, n1 * n2, params):
            cell = (r, kappa, c)
            a, y, x_star, sigma = _problems(
                [rngs.generator(*key, "operator", *cell, s) for s in chunk],
                [rngs.generator(*key, "truth", *cell, s) for s in chunk],
                **sizes,
                m=m,
            )
            init_rngs = [rngs.generator(*key, "init", *cell, s) for s in chunk]
            left, right = _initial_factors(params["init"], a, y, n1, n2, r, init_rngs, False)
            tr = _solve(params, a, y, x_star, sigma, left, right, eps=tol, t_max=t_max)
            del a
            rows = slice(start, start + len(chunk))
            iters[rows, j] = tr.iters_to_eps
            final_err[rows, j], init_err[rows, j] = tr.final_err, tr.init_err
            start += len(chunk)
        ok = iters[:, j] >= 0
        log(
            f"scaled_gd/phase_transition {params['method']} init={params['init']} r={r} "
            f"kappa={kappa:g} c={c:g} m={m}: success {ok.sum()}/{len(seeds)}, "
            f"median iters {np.median(iters[ok, j]) if ok.any() else float('nan'):g}"
        )
    success = (iters >= 0).astype(np.int8)
    threshold = c50(c_grid, success.mean(axis=0))
    sc = ("seed", "c")
    return xr.Dataset(
        {
            "success": _var(sc, success, "1 if rel_err < tol within T_max, else 0"),
            "iters": _var(
                sc, iters, "first iteration with rel_err < tol (-1: not reached)", "iterations"
            ),
            "final_err": _var(sc, final_err, "relative error when the run stopped"),
            "init_err": _var(sc, init_err, "relative error at t = 0"),
            "c50": _var((), threshold, "c at success fraction 0.5 (brief 2.6 interpolation)"),
            "tol": _var((), tol, "success tolerance on rel_err"),
            "t_max": _var((), np.int64(t_max), "iteration budget T_max", "iterations"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "trial seed"),
            "c": _var(("c",), np.asarray(c_grid), "oversampling c = m / ((n1 + n2) r)"),
        },
    )
