"""One sweep point of a ``dln_sgd`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.dln_sgd.experiments``); the full-network ones share one
runner that trains all seeds as one batch and evaluates the mode strengths m_k, the closed-form
diffusion D_k, the loss and the misalignment every ``record_every`` steps. The per-(seed, mode)
quantities of `observables` (t_learn90, t_peak, m_k(t_peak), ...) come from that full record; the
stored traces are thinned to a common grid of spacing ``trace_dt`` for the figures (float32 except m_k).

``staircase`` (E1, E3): axes ``depth`` L and ``init`` (gamma-<g>)
    online SGD at sigma = 0. E1 is one (L, gamma) per depth with D recorded; E3 sweeps gamma
    (``diffusion: false``). The E1 points double as E3's points at their gamma.
``gd`` (E2's baseline): axes ``depth``, ``init``
    GD on the population loss from the same init as ``staircase``.
``label_noise`` (E8): axes ``init``, ``sigma``
    the staircase with label noise.
``diffusion`` (E0): axis ``init``
    SGD to ``t_state``, then the closed-form Var g_k against the sample variance over ``samples``
    fresh (x, eps), for each label-noise level in ``sigmas``.
``stationary`` (E4): axis ``init``
    the full network with label noise: burn-in, then m_k sampled every ``sample_every`` time units;
    with the exact 1-D stationary density at the same (eta, B) for comparison.
``scalar`` (E5, E6, E7): axes ``init`` (aligned-s), ``model`` (sgd | em)
    aligned-balanced scalar SGD or the per-mode SDE by Euler-Maruyama, ``chains`` chains per mode,
    for every (eta, B) of ``eta_batch``; u at the snapshot times, the exact density, tau_k and KS
    p-values per snapshot.
``transient`` (E9): axis ``init`` (aligned-<u0>)
    both 1-D models from a small aligned init at sigma = 0: t_learn90 per chain, and the
    gradient-flow t_learn90 (closed form at L = 2, RK45 with an event otherwise).

Paper-scale variant axes (brief §3 "Paper scale"; optional, absent from the quick config): the
full-network experiments also take ``spectrum`` ("default" = the ``teacher`` setting, or e.g.
"100-90-80-70", the authors' teacher), and ``staircase``, ``gd``, ``label_noise`` and
``stationary`` take ``inputs`` ("online", or "whitened-<n>": the authors' finite whitened dataset,
where GD is full-batch GD on the training set and D_k the exact variance over its samples).

Random streams (`initlab.rng.generator`). Streams of the full network are keyed by
``(study, master_seed)`` only, not by the experiment, so that every experiment of a seed set shares
them (brief §3 "Seeds"): ``("teacher",)``, ``("init", seed)``, ``("x", seed)`` and
``("label-noise", seed)``. So SGD and GD, all gammas and all sigmas of a seed start from the same
standard-normal draws (rescaled by gamma) and see the same inputs, and the E0 state is the E1 L = 3
run's state at t_state. The 1-D chains are keyed by the point: ``(experiment, "chains", model,
init, eta, B, seed)``; the Monte Carlo samples of E0 by ``(experiment, "mc", sigma, seed)``.

scipy is imported inside the functions that need it: every job imports this module, and job
start-up, not arithmetic, dominates most points at quick scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr
from initlab import rng as rngs

from . import algorithms, diffusion, modes, observables
from .initialization import aligned_init, jacot_init, parse_init
from .network import balance_gaps, end_to_end, misalignment, mode_strengths, population_loss, widths
from .teacher import (
    FiniteData,
    OnlineData,
    check_strengths,
    make_teacher,
    parse_inputs,
    parse_spectrum,
)

__all__ = ["EXPERIMENTS", "MODELS", "run"]

EXPERIMENTS = ("staircase", "gd", "label_noise", "diffusion", "stationary", "scalar", "transient")
#: The 1-D models: aligned-balanced scalar SGD and the per-mode SDE (Euler-Maruyama).
MODELS = ("sgd", "em")
#: Points of the stored exact densities (every 20th of the 40001 quadrature points).
DENSITY_STRIDE = 20
_LO, _HI = 0.2, 1.8


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
    experiment : one of `EXPERIMENTS`.
    params : the experiment's settings merged with the point's axis values, keys as in
        ``config.yaml``.
    seeds : the result's ``seed`` coordinate (vectorised networks for the full-network
        experiments; independent groups of ``chains`` chains for the 1-D ones).
    key : stream prefix ``("dln_sgd", master_seed, experiment)``; see the module docstring.
    threads : accepted for the framework's interface (BLAS threads are capped by the caller).
    device : ``"cpu"``: numpy; ``"cuda"``: the full network's SGD runs in float64 torch on the
        GPU (`algorithms.sgd` with ``backend="torch"``), from the same draws; GD, the observables
        and the 1-D models stay numpy.
    log : progress sink.
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"dln_sgd: device must be 'cpu' (numpy) or 'cuda' (torch), got {device!r}")
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"unknown dln_sgd experiment {experiment!r}; expected one of {EXPERIMENTS}"
        )
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    scheme, _ = parse_init(params["init"])
    want = "aligned" if experiment in ("scalar", "transient") else "gamma"
    if scheme != want:
        raise ValueError(f"{experiment}: init must be {want}-..., got {params['init']!r}")
    runner = {
        "staircase": _trajectories,
        "gd": _trajectories,
        "label_noise": _trajectories,
        "diffusion": _diffusion,
        "stationary": _stationary,
        "scalar": _scalar,
        "transient": _transient,
    }[experiment]
    if experiment == "gd":
        params = dict(params, algo="gd")
    return runner(params, seeds, key, log, device)


# --- shared pieces ----------------------------------------------------------------------------


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, values, {"long_name": long_name, "units": units}


def _sgd(weights, data, device, **kwargs):
    """`algorithms.sgd` on ``device``: numpy on the cpu, float64 torch on a GPU."""
    if device != "cpu":
        kwargs.update(backend="torch", device=device)
    return algorithms.sgd(weights, data, **kwargs)


def _steps(t: float, eta: float) -> int:
    """Number of steps to time t (t = eta x steps), rounded."""
    return int(round(float(t) / float(eta)))


def _network(params, seeds, key):
    """Teacher, initial weights and the data of the full-network experiments.

    The paper-scale variant axes (brief §3 "Paper scale"), when a config sweeps them: ``spectrum``
    replaces the ``teacher`` setting's singular values (the same U and V are drawn), and
    ``inputs`` = whitened-<n> replaces the online Gaussian data by a finite whitened dataset per
    seed (`FiniteData`, drawn from the seed's "x" and "label-noise" streams).
    """
    shared = key[:2]  # (study, master_seed): shared by every experiment of the seed set
    d, h, depth = int(params["d"]), int(params["h"]), int(params["depth"])
    spectrum = parse_spectrum(params.get("spectrum", "default"))
    s = check_strengths(params["teacher"]) if spectrum is None else spectrum
    u, v, t = make_teacher(rngs.generator(*shared, "teacher"), d, s)
    _, gamma = parse_init(params["init"])
    weights = jacot_init(
        [rngs.generator(*shared, "init", k) for k in seeds], widths(d, h, depth), gamma
    )
    streams = (
        [rngs.generator(*shared, "x", k) for k in seeds],
        [rngs.generator(*shared, "label-noise", k) for k in seeds],
    )
    n = parse_inputs(params.get("inputs", "online"))
    sigma, batch = float(params["sigma"]), int(params["batch"])
    if n is None:
        data = OnlineData(*streams, t, sigma=sigma, batch=batch)
    else:
        data = FiniteData(*streams, t, n=n, sigma=sigma, batch=batch)
    return s, u, v, t, weights, data


def _flat(weights):
    """(R, S, ...) snapshots -> (R S, ...) so that observables run on one batch."""
    return [w.reshape((-1,) + w.shape[2:]) for w in weights]


def _observe(
    snap: algorithms.Snapshots, s, u, v, teacher, *, sigma, eta, batch, with_diffusion, data
):
    """m (S, R, r), D (S, R, r) or None, loss (S, R), misalignment (S, R) of a block.

    D is the closed form for online Gaussian data, and the exact variance over the training
    samples for a finite dataset (`diffusion.empirical_moments`).
    """
    n_rec, n_seeds = snap.steps.size, snap.weights[0].shape[1]
    flat = _flat(snap.weights)
    w_eff = end_to_end(flat)
    m = mode_strengths(w_eff, u, v).reshape(n_rec, n_seeds, -1).transpose(1, 0, 2)
    loss = population_loss(w_eff, teacher).reshape(n_rec, n_seeds).T
    mis = misalignment(w_eff, u, v).reshape(n_rec, n_seeds).T
    if not with_diffusion:
        return m, None, loss, mis
    if isinstance(data, FiniteData):  # each record's network with its seed's training samples
        x, y = (
            np.broadcast_to(a, (n_rec,) + a.shape).reshape((-1,) + a.shape[1:])
            for a in (data.x_train, data.y_train)
        )
        _, var = diffusion.empirical_moments(flat, u, v, x, y)
    else:
        _, var = diffusion.gradient_moments(flat, teacher, u, v, sigma=sigma)
    d = (eta / batch * var).reshape(n_rec, n_seeds, -1).transpose(1, 0, 2)
    return m, d, loss, mis


# --- trajectories: staircase (E1, E3), gd (E2), label_noise (E8) -------------------------------

#: Observables beyond this (or non-finite) mean divergence even while the weights are below
#: `algorithms.BLOWUP`: D_k grows like |W|^(4L) and would overflow the stored float32 traces.
OBSERVABLE_BLOWUP = 1.0e30


def _flag_blowup(steps, diverged_step, series, optional=()):
    """Set NaN every series (S, R, ...) of a seed from its first bad record on, and return
    ``diverged_step`` (S,) updated with that record's step. A record is bad when a value is
    infinite, beyond `OBSERVABLE_BLOWUP`, or NaN in a series not listed in ``optional`` (whose
    NaN means "not computed")."""
    bad = np.zeros(series[0].shape[:2], dtype=bool)
    for x in series:
        flat = x.reshape(x.shape[:2] + (-1,))
        with np.errstate(invalid="ignore"):
            wrong = np.abs(flat) > OBSERVABLE_BLOWUP
        if not any(x is o for o in optional):
            wrong |= np.isnan(flat)
        bad |= wrong.any(axis=2)
    for s in np.flatnonzero(bad.any(axis=1)):
        first = int(np.argmax(bad[s]))
        for x in series:
            x[s, first:] = np.nan
        if diverged_step[s] < 0 or steps[first] < diverged_step[s]:
            diverged_step[s] = steps[first]
    return diverged_step


def _trajectories(params, seeds, key, log, device="cpu") -> xr.Dataset:
    s, u, v, teacher, weights, data = _network(params, seeds, key)
    algo = params.get("algo", "sgd")
    eta, sigma, batch = float(params["eta"]), float(params["sigma"]), int(params["batch"])
    every = int(params["record_every"])
    n_steps = _steps(params["t_max"], eta)
    with_d = bool(params.get("diffusion", True))
    if algo == "sgd":
        loop = _sgd(weights, data, device, eta=eta, n_steps=n_steps, record_every=every)
    elif algo == "gd" and isinstance(data, FiniteData):  # full-batch GD on the training set
        sxx, cyx = data.moments()
        loop = algorithms.gd(
            weights, cyx, eta=eta, n_steps=n_steps, record_every=every, covariance=sxx
        )
    elif algo == "gd":
        loop = algorithms.gd(weights, teacher, eta=eta, n_steps=n_steps, record_every=every)
    else:
        raise ValueError(f"algo must be 'sgd' or 'gd', got {algo!r}")
    parts, steps, snap = [], [], None
    for snap in loop:
        steps.append(snap.steps)
        parts.append(
            _observe(
                snap,
                s,
                u,
                v,
                teacher,
                sigma=sigma,
                eta=eta,
                batch=batch,
                with_diffusion=with_d,
                data=data,
            )
        )
    steps = np.concatenate(steps)
    t_rec = eta * steps
    m = np.concatenate([p[0] for p in parts], axis=1)
    d = np.concatenate([p[1] for p in parts], axis=1) if with_d else np.full_like(m, np.nan)
    loss = np.concatenate([p[2] for p in parts], axis=1)
    mis = np.concatenate([p[3] for p in parts], axis=1)
    diverged_step = _flag_blowup(steps, snap.diverged_step.copy(), [m, d, loss, mis], optional=[d])

    # per (seed, mode), from the full record (brief §3 "Derived")
    learn = observables.learn_index(m, s)
    t_learn = np.where(learn >= 0, t_rec[np.maximum(learn, 0)], np.nan)
    peak = observables.peak_index(d)
    t_peak = np.where(peak >= 0, t_rec[np.maximum(peak, 0)], np.nan)
    transient = observables.peak_index(d, upto=learn)
    seq = observables.sequential_index(m, s, learn)
    late = t_rec >= t_rec[-1] - float(params["late_window"]) - 1e-9
    with np.errstate(invalid="ignore"):
        late_dev = np.max(np.abs(m[:, late] - s), axis=1)
        late_d_max = np.max(d[:, late], axis=1)
        late_d_mean = np.mean(d[:, late], axis=1)
    # a diverged seed has no learning time, peak or fixed point, whatever it crossed on the way
    dead = diverged_step >= 0
    for x in (t_learn, t_peak, seq, late_dev, late_d_max, late_d_mean):
        x[dead] = np.nan
    peak[dead], transient[dead] = -1, -1
    gaps = balance_gaps(weights)
    gap = (
        np.max([np.max(np.abs(g), axis=(1, 2)) for g in gaps], axis=0)
        if gaps
        else np.zeros(len(seeds))
    )

    # traces on a common grid (nearest record; |error| <= eta record_every / 2)
    trace_dt = float(params["trace_dt"])
    grid = np.round(np.arange(0.0, t_rec[-1] + 1e-9, trace_dt), 10)
    pick = np.clip(np.round(grid / (eta * every)).astype(int), 0, t_rec.size - 1)
    n_div = int((diverged_step >= 0).sum())
    learned = np.isfinite(t_learn)
    median = [
        float(np.median(c[ok])) if ok.any() else float("nan") for c, ok in zip(t_learn.T, learned.T)
    ]
    log(
        f"dln_sgd/trajectories {algo} L={params['depth']} init={params['init']} sigma={sigma:g} "
        f"eta={eta:g} steps={n_steps}: t_learn90 median over learned seeds {np.round(median, 2).tolist()} "
        f"(learned {learned.sum(axis=0).tolist()} of {len(seeds)}), diverged {n_div}"
    )
    sm, st, sd = ("seed", "mode"), ("seed", "time"), ("seed", "time", "mode")
    f32 = np.float32
    return xr.Dataset(
        {
            "s": _var(("mode",), s, "teacher singular value s_k"),
            # m stays float64: |m_k - s_k| ~ 1e-7 at the fixed point is below float32's resolution
            "m": _var(sd, m[:, pick], "mode strength m_k = u_k^T W_eff v_k"),
            "D": _var(sd, d[:, pick].astype(f32), "closed-form diffusion D_k = (eta/B) Var g_k"),
            "loss": _var(st, loss[:, pick].astype(f32), "1/2 ||W_eff - T||_F^2"),
            "misalignment": _var(st, mis[:, pick].astype(f32), "||offdiag(U^T W_eff V)||_F"),
            "t_learn90": _var(
                sm, t_learn, "first recorded t with m_k >= 0.9 s_k (NaN: never)", "time"
            ),
            "t_peak": _var(sm, t_peak, "recorded t of max_t D_k(t)", "time"),
            "m_peak": _var(sm, observables.take(m, peak) / s, "m_k(t_peak) / s_k"),
            "D_peak": _var(sm, observables.take(d, peak), "max_t D_k(t)"),
            "D_transient_max": _var(
                sm, observables.take(d, transient), "max of D_k(t) over t <= t_learn90"
            ),
            "seq_index": _var(
                ("seed",), seq, "sequential index: max_k m_{k+1}(t_learn90,k)/s_{k+1}"
            ),
            "late_dev_max": _var(sm, late_dev, "max |m_k - s_k| over the final late_window"),
            "late_D_max": _var(sm, late_d_max, "max D_k over the final late_window"),
            "late_D_mean": _var(sm, late_d_mean, "mean D_k over the final late_window"),
            "balance_gap": _var(("seed",), gap, "final max_l max|W_{l+1}^T W_{l+1} - W_l W_l^T|"),
            "diverged": _var(
                ("seed",), (diverged_step >= 0).astype(np.int8), "1 if the run diverged"
            ),
            "t_diverged": _var(
                ("seed",),
                np.where(diverged_step >= 0, eta * diverged_step, np.nan),
                "time of divergence",
                "time",
            ),
            "eta": _var((), eta, "learning rate"),
            "t_end": _var((), float(t_rec[-1]), "last recorded time", "time"),
            "record_dt": _var((), eta * every, "spacing of the full record", "time"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed"),
            "mode": _var(("mode",), np.arange(1, s.size + 1), "mode k (decreasing s_k)"),
            "time": _var(("time",), grid, "t = eta x steps (nearest record)", "time"),
        },
    )


# --- diffusion check (E0) -----------------------------------------------------------------------


def _diffusion(params, seeds, key, log, device="cpu") -> xr.Dataset:
    if parse_inputs(params.get("inputs", "online")) is not None:
        raise ValueError("diffusion (E0) checks the Gaussian closed form: inputs must be online")
    p = dict(params, sigma=0.0)
    s, u, v, teacher, weights, data = _network(p, seeds, key)
    eta = float(params["eta"])
    n_steps = _steps(params["t_state"], eta)
    snap = None
    for snap in _sgd(weights, data, device, eta=eta, n_steps=n_steps, record_every=max(n_steps, 1)):
        pass
    diverged = (snap.diverged_step >= 0).astype(np.int8)
    sigmas = [float(x) for x in params["sigmas"]]
    n = int(params["samples"])
    d = teacher.shape[0]
    shape = (len(sigmas), len(seeds), s.size)
    var_cf, var_mc, mean_cf, mean_mc = (np.full(shape, np.nan) for _ in range(4))
    for i, sigma in enumerate(sigmas):
        mean, var = diffusion.gradient_moments(weights, teacher, u, v, sigma=sigma)
        mean_cf[i], var_cf[i] = mean, var
        for j, seed in enumerate(seeds):
            g = rngs.generator(*key, "mc", sigma, seed)
            x, eps = g.standard_normal((n, d)), g.standard_normal((n, d))
            samples = diffusion.projected_gradients(
                [w[j : j + 1] for w in weights], teacher, u, v, x, eps, sigma=sigma
            )
            mean_mc[i, j], var_mc[i, j] = samples.mean(axis=0), samples.var(axis=0, ddof=1)
    ratio = var_cf / var_mc
    log(
        f"dln_sgd/diffusion: closed-form / sample variance in [{np.nanmin(ratio):.4f}, {np.nanmax(ratio):.4f}]"
    )
    dims = ("sigma", "seed", "mode")
    m_state = mode_strengths(end_to_end(weights), u, v)
    return xr.Dataset(
        {
            "s": _var(("mode",), s, "teacher singular value s_k"),
            "var_closed": _var(dims, var_cf, "closed-form Var g_k"),
            "var_mc": _var(dims, var_mc, "sample variance of g_k over fresh (x, eps)"),
            "mean_closed": _var(dims, mean_cf, "closed-form E g_k = tr K_k"),
            "mean_mc": _var(dims, mean_mc, "sample mean of g_k"),
            "ratio": _var(dims, ratio, "closed-form / sample variance of g_k"),
            "m_state": _var(("seed", "mode"), m_state, "mode strengths m_k at t_state"),
            "diverged": _var(("seed",), diverged, "1 if SGD diverged before t_state"),
            "t_state": _var((), float(eta * n_steps), "time of the checked state", "time"),
            "samples": _var((), np.int64(n), "Monte Carlo samples per (sigma, seed)"),
        },
        coords={
            "sigma": _var(("sigma",), np.asarray(sigmas), "label-noise standard deviation"),
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed"),
            "mode": _var(("mode",), np.arange(1, s.size + 1), "mode k"),
        },
    )


# --- exact densities (E7) -----------------------------------------------------------------------


def _densities(s, depth, pairs, sigma):
    """Exact stationary pdf on the normalised grid u/s, mean, var and tau_k per (pair, mode)."""
    from .stationary import boltzmann_temperature, exact_density

    grid = np.linspace(_LO, _HI, (40001 - 1) // DENSITY_STRIDE + 1)
    shape = (len(pairs), s.size)
    pdf = np.empty(shape + (grid.size,))
    mean, var, tau = np.empty(shape), np.empty(shape), np.empty(shape)
    dens = {}
    for i, (eta, batch) in enumerate(pairs):
        for k, sk in enumerate(s):
            p = exact_density(sk, depth, eta=eta, batch=batch, sigma=sigma, lo=_LO, hi=_HI)
            dens[i, k] = p
            pdf[i, k] = p.pdf[::DENSITY_STRIDE]
            mean[i, k], var[i, k] = p.mean, p.var
            tau[i, k] = boltzmann_temperature(sk, depth, eta=eta, batch=batch, sigma=sigma)
    return grid, pdf, mean, var, tau, dens


# --- full-network stationary law (E4) -----------------------------------------------------------


def _stationary(params, seeds, key, log, device="cpu") -> xr.Dataset:
    s, u, v, teacher, weights, data = _network(params, seeds, key)
    eta, sigma, batch, depth = (
        float(params["eta"]),
        float(params["sigma"]),
        int(params["batch"]),
        int(params["depth"]),
    )
    every = _steps(params["sample_every"], eta)
    burn = _steps(params["burn_in"], eta)
    n_steps = burn + _steps(params["duration"], eta)
    ms, steps, snap = [], [], None
    for snap in _sgd(weights, data, device, eta=eta, n_steps=n_steps, record_every=every):
        keep = snap.steps > burn
        flat = _flat([w[keep] for w in snap.weights])
        m = mode_strengths(end_to_end(flat), u, v).reshape(int(keep.sum()), len(seeds), -1)
        ms.append(m.transpose(1, 0, 2))
        steps.append(snap.steps[keep])
    m = np.concatenate(ms, axis=1)
    t_sample = eta * np.concatenate(steps)
    grid, pdf, mean, var, tau, _ = _densities(s, depth, [(eta, batch)], sigma)
    n_div = int((snap.diverged_step >= 0).sum())
    log(
        f"dln_sgd/stationary L={depth} eta={eta:g} sigma={sigma:g}: Var(m_k)/exact "
        f"{(np.nanvar(m, axis=(0, 1)) / var[0]).round(3).tolist()}, diverged {n_div}/{len(seeds)}"
    )
    return xr.Dataset(
        {
            "s": _var(("mode",), s, "teacher singular value s_k"),
            "m": _var(("seed", "sample", "mode"), m, "mode strength m_k after burn-in"),
            "sample_time": _var(("sample",), t_sample, "time of the sample", "time"),
            "exact_pdf": _var(
                ("mode", "u_over_s"), pdf[0], "exact 1-D stationary density of u", "1/u"
            ),
            "exact_mean": _var(("mode",), mean[0], "mean of the exact 1-D density"),
            "exact_var": _var(("mode",), var[0], "variance of the exact 1-D density"),
            "tau": _var(
                ("mode",), tau[0], "Boltzmann temperature tau_k = L eta sigma^2 s^(2-2/L) / (2B)"
            ),
            "diverged": _var(
                ("seed",), (snap.diverged_step >= 0).astype(np.int8), "1 if the run diverged"
            ),
            "eta": _var((), eta, "learning rate"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed"),
            "sample": _var(("sample",), np.arange(t_sample.size), "sample index"),
            "mode": _var(("mode",), np.arange(1, s.size + 1), "mode k"),
            "u_over_s": _var(("u_over_s",), grid, "u / s_k"),
        },
    )


# --- 1-D models at stationarity (E5, E6, E7) ------------------------------------------------------


def _pairs(params):
    pairs = [(float(e), int(b)) for e, b in params["eta_batch"]]
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"eta_batch has repeated pairs: {params['eta_batch']}")
    return pairs


def _scalar(params, seeds, key, log, device="cpu") -> xr.Dataset:
    from scipy import stats

    s = check_strengths(params["teacher"])
    model = params["model"]
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    depth, sigma, chains = int(params["depth"]), float(params["sigma"]), int(params["chains"])
    pairs = _pairs(params)
    times = [
        float(params["burn_in"]) + i * float(params["snapshot_every"])
        for i in range(int(params["snapshots"]))
    ]
    _, u0 = parse_init(params["init"])
    grid, pdf, mean, var, tau, dens = _densities(s, depth, pairs, sigma)
    shape = (len(seeds), len(pairs), len(times), chains, s.size)
    u = np.full(shape, np.nan)
    ks_exact = np.full(shape[:3] + (s.size,), np.nan)
    ks_gauss = np.full_like(ks_exact, np.nan)
    n_div = np.zeros((len(seeds), len(pairs), s.size), dtype=np.int64)
    a0 = np.repeat(aligned_init(u0, s, depth)[None], chains, axis=0).ravel()
    s_flat = np.tile(s, chains)
    # KS tests use the first ks_chains chains: their thresholds are calibrated for n = 2000, and
    # with 2e4 chains scalar SGD's O(eta) departure from the SDE density becomes detectable
    # (brief pitfall 11).
    ks_n = min(chains, int(params["ks_chains"]))
    for i, seed in enumerate(seeds):
        for p, (eta, batch) in enumerate(pairs):
            g = rngs.generator(*key, "chains", model, params["init"], eta, batch, seed)
            snaps = [_steps(t, eta) for t in times]
            out, _, div = modes.simulate(
                a0,
                s_flat,
                depth,
                g,
                model=model,
                eta=eta,
                batch=batch,
                sigma=sigma,
                n_steps=max(snaps),
                snapshot_steps=snaps,
            )
            u[i, p] = out.reshape(len(times), chains, s.size)
            n_div[i, p] = div.reshape(chains, s.size).sum(axis=0)
            for q in range(len(times)):
                for k in range(s.size):
                    x = u[i, p, q, :ks_n, k]
                    x = x[np.isfinite(x)]
                    ks_exact[i, p, q, k] = stats.kstest(x, dens[p, k].cdf_at).pvalue
                    ks_gauss[i, p, q, k] = stats.kstest(
                        x, "norm", args=(s[k], np.sqrt(tau[p, k]))
                    ).pvalue
            v = np.nanvar(u[i, p], axis=(0, 1))
            log(
                f"dln_sgd/scalar {model} eta={eta:g} B={batch} seed={seed}: Var(u_k)/exact "
                f"{(v / var[p]).round(3).tolist()}, Var/tau {(v / tau[p]).round(3).tolist()}"
            )
    labels = [f"{e:g}/{b}" for e, b in pairs]
    pm = ("eta_B", "mode")
    return xr.Dataset(
        {
            "s": _var(("mode",), s, "teacher singular value s_k"),
            "u": _var(("seed", "eta_B", "snapshot", "chain", "mode"), u, "mode strength u = a^L"),
            "eta": _var(("eta_B",), np.array([e for e, _ in pairs]), "learning rate (= dt of EM)"),
            "batch": _var(
                ("eta_B",), np.array([b for _, b in pairs], dtype=np.int64), "batch size B"
            ),
            "exact_pdf": _var(pm + ("u_over_s",), pdf, "exact stationary density of u", "1/u"),
            "exact_mean": _var(pm, mean, "mean of the exact density"),
            "exact_var": _var(pm, var, "variance of the exact density"),
            "tau": _var(pm, tau, "Boltzmann temperature tau_k = L eta sigma^2 s^(2-2/L) / (2B)"),
            "ks_exact_p": _var(
                ("seed", "eta_B", "snapshot", "mode"),
                ks_exact,
                "KS p-value against the exact CDF (first ks_chains chains)",
            ),
            "ks_gauss_p": _var(
                ("seed", "eta_B", "snapshot", "mode"),
                ks_gauss,
                "KS p-value against N(s_k, tau_k) (first ks_chains chains)",
            ),
            "diverged": _var(("seed", "eta_B", "mode"), n_div, "chains that diverged"),
            "sigma": _var((), sigma, "label-noise standard deviation"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed (group of chains)"),
            "eta_B": _var(("eta_B",), np.array(labels), "eta/B pair"),
            "snapshot": _var(("snapshot",), np.array(times), "snapshot time", "time"),
            "chain": _var(("chain",), np.arange(chains), "chain"),
            "mode": _var(("mode",), np.arange(1, s.size + 1), "mode k"),
            "u_over_s": _var(("u_over_s",), grid, "u / s_k"),
        },
    )


# --- 1-D transient from a small aligned init (E9) ---------------------------------------------------


def _transient(params, seeds, key, log, device="cpu") -> xr.Dataset:
    s = check_strengths(params["teacher"])
    depth, chains = int(params["depth"]), int(params["chains"])
    eta, batch, sigma = float(params["eta"]), int(params["batch"]), float(params["sigma"])
    _, u0 = parse_init(params["init"])
    if u0 is None:
        raise ValueError("transient: init must be aligned-<u0> with a small u0")
    n_steps = _steps(params["t_max"], eta)
    gf = np.array([modes.gf_learning_time(u0, sk, depth) for sk in s])
    a0 = np.repeat(aligned_init(u0, s, depth)[None], chains, axis=0).ravel()
    s_flat = np.tile(s, chains)
    t_learn = np.full((len(seeds), len(MODELS), chains, s.size), np.nan)
    n_div = np.zeros((len(seeds), len(MODELS), s.size), dtype=np.int64)
    for i, seed in enumerate(seeds):
        for j, model in enumerate(MODELS):
            g = rngs.generator(*key, "chains", model, params["init"], eta, batch, seed)
            _, first, div = modes.simulate(
                a0,
                s_flat,
                depth,
                g,
                model=model,
                eta=eta,
                batch=batch,
                sigma=sigma,
                n_steps=n_steps,
                learn_level=0.9 * s_flat,
            )
            t_learn[i, j] = np.where(first >= 0, eta * first, np.nan).reshape(chains, s.size)
            n_div[i, j] = div.reshape(chains, s.size).sum(axis=0)
            log(
                f"dln_sgd/transient {model} u0={u0:g} seed={seed}: median t_learn90 / GF "
                f"{(np.nanmedian(t_learn[i, j], axis=0) / gf).round(4).tolist()}"
            )
    return xr.Dataset(
        {
            "s": _var(("mode",), s, "teacher singular value s_k"),
            "t_learn90": _var(
                ("seed", "model", "chain", "mode"),
                t_learn,
                "first t with u >= 0.9 s (NaN: never)",
                "time",
            ),
            "gf_t_learn90": _var(("mode",), gf, "gradient-flow time to u = 0.9 s", "time"),
            "diverged": _var(("seed", "model", "mode"), n_div, "chains that diverged"),
            "u0": _var((), float(u0), "initial mode strength"),
            "eta": _var((), eta, "learning rate (= dt of EM)"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "seed (group of chains)"),
            "model": _var(("model",), np.array(MODELS), "1-D model"),
            "chain": _var(("chain",), np.arange(chains), "chain"),
            "mode": _var(("mode",), np.arange(1, s.size + 1), "mode k"),
        },
    )
