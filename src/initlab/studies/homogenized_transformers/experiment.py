"""One sweep point of a ``homogenized_transformers`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.homogenized_transformers.experiments``); every one sweeps
the token initialisation ``init``:

``generator`` (A1)
    One layer against the limit generator at a fixed X: the empirical means of Delta rho_ij and
    of <Delta x_i, Delta x_j> over ``step_pairs`` antithetic (+V, -V) weight draws, divided by the
    layer's diffusion time, against the Gram drift and covariance built from C(X), estimated from
    the same (Q, K) draws.
``homogenisation`` (A2, A3), axis ``method``
    ``particles``: one run per (H, eta) of ``schedules`` to T = L eta^2 H c_H^2 = ``t_end``;
    ``sde``: the limit SDE per (``sde_dt``, ``sde_draws``). Dim ``schedule`` indexes the runs of
    a method; the variables heads, eta (particles) and sde_dt, sde_draws (SDE) describe them.
``collapse`` (A4, A5, A9), axes ``n``, ``d``, ``beta``
    Particles run until t >= ``t_min`` and the seed-averaged rho_bar has reached 1/2, or until
    ``t_max``; T½ at per-layer resolution; the simplex ODE (p, q tables for beta > 0) from the
    init's rho0.
``phase_diagram`` (A5b, A8), axes ``n``, ``d``
    All ``betas`` in one run that shares every weight draw (common random numbers), to ``t_end``.
``deterministic`` (A6)
    mu = ``v_mean`` != 0: one run per eta of ``etas`` to T = L eta H c_H mu = ``t_end``, and the
    deterministic ODE by Heun.
``common_noise`` (A7), axes ``weights``, ``n``
    ``shared`` (the model) or ``per-token`` (the control, reduced exact sampler).

Recorded data (brief §3, with two changes of layout): ``homogenisation`` keeps per-seed traces
(schedule, seed, t). ``collapse`` and ``phase_diagram`` keep the seed mean, standard error, and
(for rho_bar) minimum and maximum of every statistic over t, and per-seed values only at the end
(``final_*``): their sweeps are sparse in (init, n, d, beta), and the outer merge of per-seed
traces over that grid would be tens of MB of NaN padding. T½ is computed inside the run from the
per-layer seed mean, as the brief asks. The p, q tables are ``pq_rho``, ``pq_p``, ``pq_q`` over
a ``grid`` index (their rho grid depends on the init's rho0).

Random streams (`initlab.rng.generator`, keys prefixed by ``key`` = (study, master seed,
experiment)); every seed has its own generators, so a seed's numbers do not depend on how many
seeds run:

* weights: ``("weights", ...shape parameters..., seed)``. Neither ``beta`` nor ``init`` is in the
  key, so every temperature and every initialisation of a (n, d, H, eta) sees the same weight
  stream (common random numbers, brief §7); ``phase_diagram`` goes further and applies each
  draw to all temperatures at once.
* tokens: ``("init", n, d, seed)``; ``fixed`` draws its single X0 from
  ``(study, "fixed-init", n, d, init_seed)``, which does not depend on the master seed.
* ``generator``: ``("step-draws", seed)``; SDE: ``("sde-qk", dt, M,
  seed)`` and ``("sde-noise", dt, M, seed)``; simplex tables: ``("pq", n, d, beta)``; ODE:
  ``("ode", dt, draws)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import xarray as xr

from initlab import rng as rngs

from . import limits, model, simplex
from .initialization import equiangular_rho0, initial_tokens, parse_init
from .statistics import STATS, cluster_count, pair_histogram, t_half

__all__ = ["EXPERIMENTS", "HIST_EDGES", "run", "steps_of"]

EXPERIMENTS = (
    "generator",
    "homogenisation",
    "collapse",
    "phase_diagram",
    "deterministic",
    "common_noise",
)
STUDY = "homogenized_transformers"
#: Bins of the recorded histograms of final pair overlaps rho_ij.
HIST_EDGES = np.linspace(-1.0, 1.0, 41)
#: Defaults of the convention knobs (brief §2.1), recorded in every run's attributes.
CONVENTIONS = {
    "w": 1.0,
    "head_norm": "one",
    "score_scale": "beta-sqrt-d",
    "sampler": "direct",
    "v_mean": 0.0,
    "heads": 1,
}


def steps_of(total: float, per_step: float, what: str) -> int:
    """``total / per_step`` as an int; raises when it is not (close to) a whole number."""
    k = int(round(total / per_step))
    if k < 1 or abs(k * per_step - total) > 1e-9 * max(1.0, abs(total)):
        raise ValueError(f"{what}: {total:g} is not a whole number of steps of {per_step:g}")
    return k


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, values, {"long_name": long_name, "units": units}


def _knobs(params: dict) -> dict:
    return {k: params.get(k, v) for k, v in CONVENTIONS.items()}


def _layer_kw(p: dict) -> dict:
    return dict(
        w=float(p["w"]),
        v_mean=float(p["v_mean"]),
        head_norm=p["head_norm"],
        score_scale=p["score_scale"],
    )


def _fixed_rng(n: int, d: int, init_seed: int) -> np.random.Generator:
    return rngs.generator(STUDY, "fixed-init", n, d, int(init_seed))


def _tokens(init, n, d, seeds, key, params) -> np.ndarray:
    """Initial tokens (S, n, d) for ``seeds``."""
    return initial_tokens(
        init,
        n,
        d,
        [rngs.generator(*key, "init", n, d, s) for s in seeds],
        fixed_rng=_fixed_rng(n, d, params.get("init_seed", 0)),
    )


def _attrs(params: dict, knobs: dict) -> dict:
    return {
        "init": params["init"],
        "init_seed": str(params.get("init_seed", "")),
        "weight_seed": "the seed coordinate (per-seed weight streams)",
        "w": knobs["w"],
        "head_norm": knobs["head_norm"],
        "score_scale": knobs["score_scale"],
        "sampler": knobs["sampler"],
    }


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
    seeds : weight seeds (the result's ``seed`` coordinate).
    key : stream prefix, ``(study, master_seed, experiment)``.
    threads : accepted for the framework's interface (BLAS threads are capped by the caller).
    device : only ``"cpu"`` (numpy float64) is implemented.
    log : progress sink.
    """
    if device != "cpu":
        raise ValueError(f"{STUDY}: device {device!r} is not implemented, only 'cpu' (numpy)")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown {STUDY} experiment {experiment!r}; expected one of {EXPERIMENTS}")
    parse_init(params["init"])  # fail early on a bad init value
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    params = {**CONVENTIONS, **params}
    data = _RUNNERS[experiment](params, seeds, key, log)
    data.attrs.update(_attrs(params, _knobs(params)))
    return data


# --- A1: generator identity ------------------------------------------------------------------------


def one_layer_moments(
    x: np.ndarray,
    rng: np.random.Generator,
    pairs: int,
    *,
    beta,
    eta,
    heads=1,
    chunk=5000,
    w=1.0,
    head_norm="one",
    score_scale="beta-sqrt-d",
    v_mean=0.0,
) -> dict[str, np.ndarray]:
    """One layer at ``x`` (n, d) over ``pairs`` antithetic weight draws, and C(X) from the same
    (Q, K) draws.

    Each draw of (Q, K, V) is used with +V and -V, which cancels the odd (first-order) part of the
    increment exactly. C(X) = (w^2/d) E[a_i^T G a_j] is estimated from the same (Q, K) draws
    (common random numbers: the identity holds for every (Q, K), averaged over V, so pairing
    removes the attention's Monte Carlo noise from emp - pred without weakening the test).
    Returns ``c`` (n, n) and, divided by the layer's diffusion time eta^2 H c_H^2, the means of
    Delta rho (``emp``, n x n), of <Delta x_i, Delta x_j> (``emp_cov``) and of Delta x (``emp_dx``,
    n x d).
    """
    n, d = x.shape
    shape = model.normal_shape(n, d, heads, "direct")
    dt = model.diffusion_dt(eta, heads, head_norm)
    kw = dict(w=w, head_norm=head_norm, score_scale=score_scale, v_mean=v_mean)
    rho0 = x @ x.T
    s_c, s_rho, s_cov, s_dx = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, d))
    done = 0
    while done < pairs:
        m = min(chunk, pairs - done)
        z = rng.standard_normal((m, *shape))
        # C from every head's (Q, K): H draws per layer draw, all of the same law
        s_c += heads * m * limits.covariance(
            x, z[:, :, 0].reshape(-1, d, d), z[:, :, 1].reshape(-1, d, d), beta=beta, w=w,
            score_scale=score_scale,
        )  # fmt: skip
        for sign in (1.0, -1.0):
            zz = z.copy()
            zz[:, :, 2] *= sign
            y = model.layer(x, zz, beta=beta, eta=eta, **kw)
            dx = y - x
            s_rho += (y @ np.swapaxes(y, -1, -2) - rho0).sum(axis=0)
            s_cov += (dx @ np.swapaxes(dx, -1, -2)).sum(axis=0)
            s_dx += dx.sum(axis=0)
        done += m
    norm = 2 * pairs * dt
    return {
        "c": s_c / (heads * pairs),
        "emp": s_rho / norm,
        "emp_cov": s_cov / norm,
        "emp_dx": s_dx / norm,
    }


def _rel_upper(emp: np.ndarray, pred: np.ndarray) -> float:
    """max_{i<j} |emp - pred| / max_{i<j} |pred| (the H1 measure)."""
    iu = np.triu_indices(pred.shape[-1], 1)
    return float(np.abs(emp - pred)[..., iu[0], iu[1]].max() / np.abs(pred[..., iu[0], iu[1]]).max())


def _generator(params, seeds, key, log) -> xr.Dataset:
    n, d = int(params["n"]), int(params["d"])
    kw = _layer_kw(params)
    if kw["v_mean"]:
        raise ValueError("generator: the SDE generator is for mu = 0 (v_mean: 0.0)")
    x0 = _tokens(params["init"], n, d, seeds, key, params)
    out = {k: [] for k in ("c", "pred", "emp", "pred_cov", "emp_cov", "pred_dx", "emp_dx")}
    for s, x in zip(seeds, x0):
        mom = one_layer_moments(
            x, rngs.generator(*key, "step-draws", s), int(params["step_pairs"]),
            beta=float(params["beta"]), eta=float(params["eta"]), heads=int(params["heads"]), **kw,
        )  # fmt: skip
        c, rho = mom["c"], x @ x.T
        for name in ("c", "emp", "emp_cov", "emp_dx"):
            out[name].append(mom[name])
        out["pred"].append(limits.gram_drift(c, x))
        out["pred_cov"].append(c * (d - 2 + rho**2))  # tr(P_i P_j) C_ij
        out["pred_dx"].append(-0.5 * (d - 1) * np.diag(c)[:, None] * x)
        log(
            f"generator seed {s}: relative error of the Gram drift "
            f"{_rel_upper(mom['emp'], out['pred'][-1]):.4f}, of the covariance "
            f"{_rel_upper(mom['emp_cov'], out['pred_cov'][-1]):.4f}"
        )
    sij, sia = ("seed", "i", "j"), ("seed", "i", "a")
    return xr.Dataset(
        {
            "x0": _var(sia, x0, "the fixed tokens X"),
            "c": _var(sij, np.array(out["c"]), "C(X) = (w^2/d) E[a_i^T G a_j] (Monte Carlo)"),
            "pred": _var(sij, np.array(out["pred"]), "Gram drift of the limit SDE"),
            "emp": _var(sij, np.array(out["emp"]), "mean Delta rho_ij of one layer / dt"),
            "pred_cov": _var(sij, np.array(out["pred_cov"]), "C_ij (d - 2 + rho_ij^2)"),
            "emp_cov": _var(sij, np.array(out["emp_cov"]), "mean <Dx_i, Dx_j> of one layer / dt"),
            "pred_dx": _var(sia, np.array(out["pred_dx"]), "-(d-1)/2 C_ii x_i"),
            "emp_dx": _var(sia, np.array(out["emp_dx"]), "mean Delta x_i of one layer / dt"),
        },
        coords={"seed": np.asarray(seeds, dtype=np.int64)},
    )


# --- particles: shared helpers ---------------------------------------------------------------------


def _particle_step(params, stream, beta, eta):
    kw = _layer_kw(params)
    sampler = params["sampler"]
    return lambda x: model.layer(x, stream.draw(), beta=beta, eta=eta, sampler=sampler, **kw)


def _summaries(traj_stats: dict, seed_axis: int) -> dict:
    """Mean and standard error over seeds of every recorded statistic; min/max of rho_bar."""
    out = {}
    count = traj_stats["rho_bar"].shape[seed_axis]
    for name, v in traj_stats.items():
        out[name] = v.mean(axis=seed_axis)
        sd = v.std(axis=seed_axis, ddof=1) if count > 1 else np.zeros_like(out[name])
        out[f"{name}_se"] = sd / math.sqrt(count)
    out["rho_bar_min"] = traj_stats["rho_bar"].min(axis=seed_axis)
    out["rho_bar_max"] = traj_stats["rho_bar"].max(axis=seed_axis)
    return out


def _summary_vars(summary: dict, dims: tuple) -> dict:
    """Dataset variables for `_summaries` output, with long names."""
    out = {}
    for name, v in summary.items():
        if name in _LONG:
            long = f"seed mean of {_LONG[name]}"
        elif name.endswith("_se"):
            long = f"standard error over seeds of {_LONG[name[:-3]]}"
        else:
            long = f"{name.rsplit('_', 1)[1]}imum over seeds of rho_bar"
        out[name] = _var(dims, v, long)
    return out


_LONG = {
    "rho_bar": "mean pair overlap rho_bar = mean_{i<j} <x_i, x_j>",
    "rho2": "mean squared pair overlap",
    "lam_max_over_n": "lambda_max(G)/n",
    "frac_pos": "fraction of pairs with rho > 0.9",
    "frac_neg": "fraction of pairs with rho < -0.9",
}


# --- A2, A3: homogenisation ------------------------------------------------------------------------


def _homogenisation(params, seeds, key, log) -> xr.Dataset:
    n, d, beta = int(params["n"]), int(params["d"]), float(params["beta"])
    t_end, record_dt = float(params["t_end"]), float(params["record_dt"])
    method = params["method"]
    x0 = _tokens(params["init"], n, d, seeds, key, params)
    kw = _layer_kw(params)
    labels, traces, extra = [], [], {"heads": [], "eta": [], "layers": [], "sde_dt": [], "sde_draws": []}
    if method == "particles":
        for sch in params["schedules"]:
            heads, eta = int(sch["heads"]), float(sch["eta"])
            dt = model.diffusion_dt(eta, heads, kw["head_norm"])
            layers = steps_of(t_end, dt, f"schedule H={heads}, eta={eta:g}: t_end")
            every = steps_of(record_dt, dt, f"schedule H={heads}, eta={eta:g}: record_dt")
            if eta * math.sqrt(heads) > 0.1 + 1e-12:
                log(f"warning: eta sqrt(H) = {eta * math.sqrt(heads):.3f} > 0.1 (brief §2.2)")
            shape = model.normal_shape(n, d, heads, params["sampler"])
            stream = model.WeightStream(
                [rngs.generator(*key, "weights", n, d, heads, eta, s) for s in seeds], shape
            )
            traj = model.simulate(
                x0, _particle_step(params, stream, beta, eta), layers=layers, dt=dt,
                record_every=every,
            )  # fmt: skip
            labels.append(f"H={heads}, eta={eta:g}")
            traces.append(traj.stats)
            for k, v in (("heads", heads), ("eta", eta), ("layers", layers)):
                extra[k].append(v)
            extra["sde_dt"].append(np.nan)
            extra["sde_draws"].append(np.nan)
            log(f"homogenisation {labels[-1]}: L={layers}, mean rho_bar(T)="
                f"{traj.stats['rho_bar'][-1].mean():.4f}")  # fmt: skip
    elif method == "sde":
        for dt in params["sde_dt"]:
            for draws in params["sde_draws"]:
                dt, draws = float(dt), int(draws)
                steps = steps_of(t_end, dt, f"sde dt={dt:g}: t_end")
                every = steps_of(record_dt, dt, f"sde dt={dt:g}: record_dt")
                rec = limits.simulate_sde(
                    x0,
                    [rngs.generator(*key, "sde-qk", dt, draws, s) for s in seeds],
                    [rngs.generator(*key, "sde-noise", dt, draws, s) for s in seeds],
                    steps=steps, dt=dt, draws=draws, beta=beta, w=kw["w"],
                    score_scale=kw["score_scale"], sampler=params["sampler"], record_every=every,
                )  # fmt: skip
                labels.append(f"SDE dt={dt:g}, M={draws}")
                traces.append(rec.stats)
                for k, v in (("heads", np.nan), ("eta", np.nan), ("layers", steps)):
                    extra[k].append(v)
                extra["sde_dt"].append(dt)
                extra["sde_draws"].append(draws)
                log(f"homogenisation {labels[-1]}: mean rho_bar(T)={rec.stats['rho_bar'][-1].mean():.4f}")
    else:
        raise ValueError(f"homogenisation: method must be 'particles' or 'sde', got {method!r}")
    t = np.array([round(j * record_dt, 10) for j in range(traces[0]["rho_bar"].shape[0])])
    dims = ("schedule", "seed", "t")
    data = {
        name: _var(dims, np.stack([tr[name].T for tr in traces]), _LONG[name])
        for name in STATS
    }
    data["heads"] = _var(("schedule",), np.array(extra["heads"], float), "heads H")
    data["eta"] = _var(("schedule",), np.array(extra["eta"], float), "residual step eta")
    data["layers"] = _var(("schedule",), np.array(extra["layers"], float), "layers (SDE steps)")
    data["sde_dt"] = _var(("schedule",), np.array(extra["sde_dt"], float), "SDE step dt")
    data["sde_draws"] = _var(("schedule",), np.array(extra["sde_draws"], float), "(Q,K) draws M")
    # ``schedule`` is an index within the method (string coordinates of different lengths do not
    # survive the merge of run files); heads/eta (particles) or sde_dt/sde_draws (SDE) name it.
    return xr.Dataset(
        data,
        coords={
            "schedule": _var(("schedule",), np.arange(len(labels)), "run index within the method"),
            "seed": np.asarray(seeds, dtype=np.int64),
            "t": _var(("t",), t, "diffusion time L eta^2 H c_H^2"),
        },
    )


# --- A4, A5, A9: collapse --------------------------------------------------------------------------


def _collapse(params, seeds, key, log) -> xr.Dataset:
    n, d, beta = int(params["n"]), int(params["d"]), float(params["beta"])
    eta, heads = float(params["eta"]), int(params["heads"])
    t_min, t_max = float(params["t_min"]), float(params["t_max"])
    kw = _layer_kw(params)
    dt = model.diffusion_dt(eta, heads, kw["head_norm"])
    layers = steps_of(t_max, dt, "collapse: t_max")
    every = steps_of(float(params["record_dt"]), dt, "collapse: record_dt")
    x0 = _tokens(params["init"], n, d, seeds, key, params)
    stream = model.WeightStream(
        [rngs.generator(*key, "weights", n, d, heads, eta, s) for s in seeds],
        model.normal_shape(n, d, heads, params["sampler"]),
    )

    def stop(t, rho_layers):
        return t >= t_min - 1e-12 and bool((rho_layers.mean(axis=1) >= 0.5).any())

    traj = model.simulate(
        x0, _particle_step(params, stream, beta, eta), layers=layers, dt=dt, record_every=every,
        stop=stop,
    )  # fmt: skip
    th = t_half(traj.t_layers, traj.rho_bar_layers.mean(axis=1))
    # The simplex ODE from the init's rho0 (equiangular inits) or from the mean initial rho_bar.
    rho0 = equiangular_rho0(params["init"], n)
    if rho0 is None:
        rho0 = float(traj.stats["rho_bar"][0].mean())
    points = int(params["pq_points"])
    if beta == 0:
        table = simplex.PQTable.uniform_attention(n)
        grid = np.linspace(min(rho0, 0.0), 0.995, points)
        pq_p, pq_q = np.full(points, 1.0 / n), np.full(points, 1.0 / n)
    else:
        table = simplex.pq_table(
            n, d, beta, rho0, rngs.generator(*key, "pq", n, d, beta),
            points=points, draws=int(params["pq_draws"]), w=kw["w"], score_scale=kw["score_scale"],
        )  # fmt: skip
        grid, pq_p, pq_q = table.rho, table.p, table.q
    rho_ode, th_ode = simplex.simplex_ode(rho0, d, table, traj.t, w=kw["w"], t_end=t_max)
    log(
        f"collapse init={params['init']} n={n} d={d} beta={beta:g}: {traj.layers} layers, "
        f"T½ = {th:.4g} (ODE {th_ode:.4g}), rho_bar(end) = {traj.stats['rho_bar'][-1].mean():.4f}"
    )
    data = _summary_vars(_summaries(traj.stats, seed_axis=1), ("t",))
    for name in STATS:
        data[f"final_{name}"] = _var(("seed",), traj.stats[name][-1], f"{_LONG[name]} at the end of the run")
    data["final_clusters"] = _var(
        ("seed",), cluster_count(traj.x), "clusters: components of {|rho_ij| > 0.99} at the end"
    )
    data["rho_hist"] = _var(
        ("hist_bin",), pair_histogram(traj.x, HIST_EDGES), "counts of final rho_ij over seeds"
    )
    data["rho_ode"] = _var(("t",), rho_ode, "simplex (mean) ODE rho(t)")
    data["pq_rho"] = _var(("grid",), grid, "rho grid of the p, q table")
    data["pq_p"] = _var(("grid",), pq_p, "p(rho) = E<a_i, a_j>, i != j")
    data["pq_q"] = _var(("grid",), pq_q, "q(rho) = E||a_i||^2")
    data["t_half"] = _var((), th, "T½ of the seed-averaged rho_bar (per layer); NaN: not reached")
    data["t_half_ode"] = _var((), th_ode, "T½ of the simplex ODE; NaN: not reached by t_max")
    data["rho0_ode"] = _var((), rho0, "initial overlap of the ODE")
    data["t_end"] = _var((), float(traj.t[-1]), "time at which the run stopped")
    data["layers_run"] = _var((), np.int64(traj.layers), "layers run", "layers")
    data["dt_layer"] = _var((), dt, "diffusion time per layer eta^2 H c_H^2")
    return xr.Dataset(
        data,
        coords={
            "seed": np.asarray(seeds, dtype=np.int64),
            "t": _var(("t",), traj.t, "diffusion time L eta^2 H c_H^2"),
            "hist_bin": _var(("hist_bin",), 0.5 * (HIST_EDGES[1:] + HIST_EDGES[:-1]), "bin centre"),
            "grid": np.arange(points),
        },
    )


# --- A5b, A8: phase diagram ------------------------------------------------------------------------


def _phase_diagram(params, seeds, key, log) -> xr.Dataset:
    n, d, eta, heads = int(params["n"]), int(params["d"]), float(params["eta"]), int(params["heads"])
    betas = np.array([float(b) for b in params["betas"]])
    kw = _layer_kw(params)
    dt = model.diffusion_dt(eta, heads, kw["head_norm"])
    t_end = float(params["t_end"])
    layers = steps_of(t_end, dt, "phase_diagram: t_end")
    every = steps_of(float(params["record_dt"]), dt, "phase_diagram: record_dt")
    x0 = _tokens(params["init"], n, d, seeds, key, params)
    x0 = np.broadcast_to(x0, (betas.size, *x0.shape)).copy()  # (B, S, n, d)
    stream = model.WeightStream(
        [rngs.generator(*key, "weights", n, d, heads, eta, s) for s in seeds],
        model.normal_shape(n, d, heads, params["sampler"]),
    )
    sampler = params["sampler"]

    def step(x):  # one weight draw per seed, applied to every temperature
        return model.layer(x, stream.draw()[None], beta=betas[:, None], eta=eta, sampler=sampler, **kw)

    traj = model.simulate(x0, step, layers=layers, dt=dt, record_every=every)
    summary = _summaries(traj.stats, seed_axis=2)  # stats (R, B, S)
    data = _summary_vars(summary, ("t", "beta"))
    for name in STATS:
        data[f"final_{name}"] = _var(("beta", "seed"), traj.stats[name][-1], f"{_LONG[name]} at T")
    data["final_clusters"] = _var(("beta", "seed"), cluster_count(traj.x), "clusters at the end")
    data["rho_hist"] = _var(
        ("beta", "hist_bin"),
        np.stack([pair_histogram(traj.x[b], HIST_EDGES) for b in range(betas.size)]),
        "counts of final rho_ij over seeds",
    )
    data["t_half"] = _var(
        ("beta",),
        np.array([t_half(traj.t_layers, traj.rho_bar_layers[:, b].mean(axis=1)) for b in range(betas.size)]),
        "T½ of the seed-averaged rho_bar; NaN: not reached",
    )
    means = ", ".join(f"beta={b:g}: {v:.3f}" for b, v in zip(betas, summary["rho_bar"][-1]))
    log(f"phase_diagram n={n} d={d}: rho_bar(T={t_end:g}) {means}")
    return xr.Dataset(
        data,
        coords={
            "seed": np.asarray(seeds, dtype=np.int64),
            "beta": betas,
            "t": _var(("t",), traj.t, "diffusion time L eta^2 H c_H^2"),
            "hist_bin": _var(("hist_bin",), 0.5 * (HIST_EDGES[1:] + HIST_EDGES[:-1]), "bin centre"),
        },
    )


# --- A6: deterministic regime ----------------------------------------------------------------------


def _deterministic(params, seeds, key, log) -> xr.Dataset:
    n, d, beta, heads = int(params["n"]), int(params["d"]), float(params["beta"]), int(params["heads"])
    kw = _layer_kw(params)
    if not kw["v_mean"]:
        raise ValueError("deterministic: the deterministic regime needs v_mean != 0")
    t_end = float(params["t_end"])
    etas = [float(e) for e in params["etas"]]
    x0 = _tokens(params["init"], n, d, seeds, key, params)
    finals = {name: [] for name in STATS}
    layers_of = []
    for eta in etas:
        dt = model.drift_dt(eta, heads, kw["head_norm"], kw["v_mean"])
        layers = steps_of(t_end, dt, f"deterministic eta={eta:g}: t_end")
        stream = model.WeightStream(
            [rngs.generator(*key, "weights", n, d, heads, eta, s) for s in seeds],
            model.normal_shape(n, d, heads, params["sampler"]),
        )
        traj = model.simulate(
            x0, _particle_step(params, stream, beta, eta), layers=layers, dt=dt, record_every=layers
        )
        for name in STATS:
            finals[name].append(traj.stats[name][-1])
        layers_of.append(layers)
        log(f"deterministic eta={eta:g}: L={layers}, rho_bar(T) mean {traj.stats['rho_bar'][-1].mean():.4f} "
            f"sd {traj.stats['rho_bar'][-1].std(ddof=1):.4f}")  # fmt: skip
    ode_dt, ode_draws = float(params["ode_dt"]), int(params["ode_draws"])
    steps = steps_of(t_end, ode_dt, "deterministic: t_end / ode_dt")
    ode = limits.simulate_ode(
        x0[0], rngs.generator(*key, "ode", ode_dt, ode_draws), steps=steps, dt=ode_dt,
        draws=ode_draws, beta=beta, w=kw["w"], score_scale=kw["score_scale"],
    )  # fmt: skip
    log(f"deterministic ODE: rho_bar(T) = {ode.stats['rho_bar'][-1]:.4f}")
    data = {
        f"final_{name}": _var(("eta", "seed"), np.array(finals[name]), f"{_LONG[name]} at T")
        for name in STATS
    }
    data["layers"] = _var(("eta",), np.array(layers_of, dtype=np.int64), "layers L", "layers")
    data["ode_rho_bar"] = _var(("t_ode",), ode.stats["rho_bar"], "rho_bar of the deterministic ODE")
    data["ode_final_rho_bar"] = _var((), float(ode.stats["rho_bar"][-1]), "ODE rho_bar at T")
    data["rho_bar_0"] = _var((), float(x0[0].sum(0) @ x0[0].sum(0) - n) / (n * (n - 1)), "rho_bar(0)")
    return xr.Dataset(
        data,
        coords={
            "eta": _var(("eta",), np.array(etas), "residual step eta"),
            "seed": np.asarray(seeds, dtype=np.int64),
            "t_ode": _var(("t_ode",), ode.t, "drift time L eta H c_H mu"),
        },
    )


# --- A7: common noise ------------------------------------------------------------------------------


def _common_noise(params, seeds, key, log) -> xr.Dataset:
    n, d, beta = int(params["n"]), int(params["d"]), float(params["beta"])
    eta, heads = float(params["eta"]), int(params["heads"])
    kw = _layer_kw(params)
    weights = params["weights"]
    dt = model.diffusion_dt(eta, heads, kw["head_norm"])
    layers = steps_of(float(params["t_end"]), dt, "common_noise: t_end")
    every = steps_of(float(params["record_dt"]), dt, "common_noise: record_dt")
    x0 = _tokens(params["init"], n, d, seeds, key, params)  # the same tokens for both weightings
    gens = [rngs.generator(*key, "weights", weights, n, d, heads, eta, s) for s in seeds]
    if weights == "shared":
        stream = model.WeightStream(gens, model.normal_shape(n, d, heads, params["sampler"]))
        step = _particle_step(params, stream, beta, eta)
    elif weights == "per-token":
        stream = model.WeightStream(gens, model.per_token_shape(n, d, heads))

        def step(x):
            return model.layer_per_token(x, stream.draw(), beta=beta, eta=eta, **kw)

    else:
        raise ValueError(f"common_noise: weights must be 'shared' or 'per-token', got {weights!r}")
    traj = model.simulate(x0, step, layers=layers, dt=dt, record_every=every)
    final = traj.stats["rho_bar"][-1]
    log(f"common_noise {weights} n={n}: rho_bar(T) mean {final.mean():.4f} sd {final.std(ddof=1):.4f}")
    data = {
        f"final_{name}": _var(("seed",), traj.stats[name][-1], f"{_LONG[name]} at T")
        for name in STATS
    }
    summary = _summary_vars(_summaries(traj.stats, seed_axis=1), ("t",))
    for name in ("rho_bar", "rho_bar_se", "lam_max_over_n"):
        data[name] = summary[name]
    return xr.Dataset(
        data,
        coords={
            "seed": np.asarray(seeds, dtype=np.int64),
            "t": _var(("t",), traj.t, "diffusion time L eta^2 H c_H^2"),
        },
    )


_RUNNERS = {
    "generator": _generator,
    "homogenisation": _homogenisation,
    "collapse": _collapse,
    "phase_diagram": _phase_diagram,
    "deterministic": _deterministic,
    "common_noise": _common_noise,
}
