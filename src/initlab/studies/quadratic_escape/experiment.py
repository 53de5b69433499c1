"""One sweep point of a ``quadratic_escape`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.quadratic_escape.experiments``):

``sgd_vs_ode`` (E1), ``implicit_bias`` (E2), ``sgd_log_n`` (E6); axes init, N, p, gamma
    One-pass SGD for a batch of seeds, and for each seed the overlap ODE (with the gamma^2 term)
    from its exact initial overlaps (``ode-empirical``) and from the idealised ``Q0 = q0 I`` with
    the same M0 (``ode-isotropic``). Every source is recorded on the same time grid
    (``records_per_unit`` points per unit of t = steps/N): the error, tr Q / p, the drift of the
    polar factor of M and the singular values of M.
``escape_time`` (E3); axes init, p, ode
    Overlap ODEs from ``Q0 = q0 I``, ``M0 = rho sqrt(q0) G / sqrt(N)`` for every N of ``N_grid``
    and ``seeds`` draws of G; t_half per (N, draw). The traces of draw 0 are kept.
``init_axis`` (E4); axis init
    Overlap ODEs from isotropic or anisotropic (Q0, M0) at one N, for each of ``ode_variants``
    (a dimension ``ode`` inside the job: both variants share the draws): t_half, the drift of the
    polar factor (maximum over the dense grid, and a trace subsampled by ``store_every``), M at
    t_max.
``hessian`` (E5); axes init, N, p, pstar
    Eigenvalues of the population-loss Hessian at a plateau point and at a solution point.

An ODE variant is ``second-order`` (with the gamma^2 term) or ``gradient-flow`` (without).

Random streams (`initlab.rng.generator`, keys prefixed by ``key``): SGD seeds draw
``("teacher", N, pstar, seed)``, ``("init", p, N, seed)`` (scaled by sqrt(q0)),
``("samples", p, N, seed)`` and ``("noise", p, N, seed)``; so the gamma values of one seed share
teacher, init and samples (paired comparison). ODE draws use ``("G", p, pstar, draw)`` (shared
across N, q0, rho, delta and the ode variant, so those axes alone move t_half) and
``("O", p, draw)``; Hessian points ``("hessian", N, p, pstar, seed)``; the random-pairing baseline
``("baseline", p, pstar)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from initlab import rng as rngs

from . import hessian, implicit_bias, ode
from .initialization import (
    anisotropic_overlaps,
    gaussian_students,
    haar_orthogonal,
    isotropic_overlaps,
    parse_init,
)
from .model import check_sizes, resolve_scale, teacher
from .sgd import one_pass_sgd

__all__ = ["EXPERIMENTS", "ODE_VARIANTS", "SOURCES", "run"]

#: Experiment names accepted by `run`, with the function that runs one point.
EXPERIMENTS = ("sgd_vs_ode", "implicit_bias", "sgd_log_n", "escape_time", "init_axis", "hessian")
#: Values of the ``ode`` axis: with the gamma^2 term, or plain gradient flow.
ODE_VARIANTS = ("second-order", "gradient-flow")
#: Sources of the SGD experiments' traces.
SOURCES = ("sgd", "ode-empirical", "ode-isotropic")
#: Haar draws of the random-pairing baseline.
BASELINE_DRAWS = 4000


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
        ``config.yaml``; ``a`` and ``b`` may be ``"1/p"`` / ``"1/pstar"``.
    seeds : seeds (SGD) or draws (ODE, Hessian); the result's ``seed`` coordinate.
    key : stream prefix, e.g. ``("quadratic_escape", master_seed, experiment)``.
    threads : accepted for the framework's interface (BLAS threads are capped by the caller).
    device : only ``"cpu"`` (numpy and scipy).
    log : progress sink.
    """
    if device != "cpu":
        raise ValueError(f"quadratic_escape: device {device!r} is not implemented, only 'cpu'")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"unknown quadratic_escape experiment {experiment!r}; expected one of {EXPERIMENTS}"
        )
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    spec = parse_init(params["init"])
    if experiment in ("sgd_vs_ode", "implicit_bias", "sgd_log_n"):
        if spec.scheme != "gaussian":
            raise ValueError(
                f"{experiment}: SGD starts from a gaussian init, got {params['init']!r}"
            )
        return _sgd(params, spec, seeds, key, log)
    if experiment == "hessian":
        if spec.scheme != "haar":
            raise ValueError(f"hessian: init must be 'haar', got {params['init']!r}")
        return _hessian(params, seeds, key, log)
    if spec.scheme not in ("isotropic", "anisotropic"):
        raise ValueError(
            f"{experiment}: the ODE starts from isotropic or anisotropic overlaps, got {params['init']!r}"
        )
    variants = [params["ode"]] if experiment == "escape_time" else list(params["ode_variants"])
    bad = [v for v in variants if v not in ODE_VARIANTS]
    if bad or not variants:
        raise ValueError(f"ODE variants must be among {ODE_VARIANTS}, got {variants!r}")
    if experiment == "escape_time":
        return _escape_time(params, spec, seeds, key, log)
    return _init_axis(params, spec, variants, seeds, key, log)


# --- shared pieces ----------------------------------------------------------------------------


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, values, {"long_name": long_name, "units": units}


def _scales(params, p: int, pstar: int) -> tuple[float, float, float, float]:
    """``(a, b, gamma, sigma)`` resolved for widths p and p*."""
    a = resolve_scale(params["a"], p, "a")
    b = resolve_scale(params["b"], pstar, "b")
    gamma, sigma = float(params["gamma"]), float(params.get("sigma", 0.0))
    if gamma <= 0 or sigma < 0:
        raise ValueError(f"gamma must be > 0 and sigma >= 0, got {gamma}, {sigma}")
    return a, b, gamma, sigma


def _ode_options(params) -> dict:
    return {
        "method": params.get("ode_method", "LSODA"),
        "rtol": float(params.get("rtol", 1e-9)),
        "atol": float(params.get("atol", 1e-12)),
    }


def _theory(p, pstar, a, b, gamma, sigma, second_order=True) -> dict:
    """Plateau norm, escape rate, plateau error and the t_half threshold as data variables."""
    kw = dict(a=a, b=b, gamma=gamma, sigma=sigma)
    q = ode.plateau_fixed_point(p, pstar, second_order=second_order, **kw)
    return {
        "qstar": _var((), q, "plateau norm q* (tr Q / p), brentq fixed point"),
        "rate": _var(
            (),
            ode.escape_rate(p, pstar, second_order=second_order, **kw),
            "linearised escape rate lambda of M at the plateau",
            "1/t",
        ),
        "plateau_eps": _var((), ode.plateau_error(q, p, pstar, a=a, b=b), "eps_g at the plateau"),
        "threshold": _var(
            (),
            ode.half_plateau_threshold(p, pstar, b=b),
            "t_half threshold: half the gradient-flow plateau error",
        ),
        "a": _var((), a, "student second-layer weight a"),
        "b": _var((), b, "teacher second-layer weight b"),
    }


def _along_ode(theory: list[dict]) -> dict:
    """`_theory` outputs of several ODE variants as variables along ``ode``."""
    return {
        name: (("ode",), np.array([th[name][1] for th in theory]), theory[0][name][2])
        for name in theory[0]
    }


def _times(t_max: float, per_unit: float) -> np.ndarray:
    return np.arange(int(round(t_max * per_unit)) + 1) / per_unit


def _ode_init(spec, G, O, N):
    if spec.scheme == "anisotropic":
        return anisotropic_overlaps(G, O, N, spec.q0, spec.rho, spec.delta)
    return isotropic_overlaps(G, N, spec.q0, spec.rho)


def _log_norm2(M) -> np.ndarray:
    return np.log(np.sum(np.asarray(M) ** 2, axis=(-2, -1)))


# --- E1, E2, E6: one-pass SGD against the ODE --------------------------------------------------


def _sgd(params, spec, seeds, key, log) -> xr.Dataset:
    N, p, pstar = int(params["N"]), int(params["p"]), int(params["pstar"])
    check_sizes(N, p, pstar)
    a, b, gamma, sigma = _scales(params, p, pstar)
    t_max = float(params["t_max"])
    record_every = max(1, int(round(N / float(params["records_per_unit"]))))
    steps = int(round(t_max * N))
    S = len(seeds)

    Wstar = np.stack(
        [teacher(rngs.generator(*key, "teacher", N, pstar, s), pstar, N) for s in seeds]
    )
    W0 = np.stack(
        [gaussian_students(rngs.generator(*key, "init", p, N, s), p, N, spec.q0) for s in seeds]
    )
    log(
        f"quadratic_escape SGD: N={N} p={p} p*={pstar} gamma={gamma:g} seeds={seeds} "
        f"steps={steps} (t_max={t_max:g}), record every {record_every} steps"
    )
    trace = one_pass_sgd(
        W0,
        Wstar,
        a=a,
        b=b,
        gamma=gamma,
        sigma=sigma,
        steps=steps,
        record_every=record_every,
        sample_rngs=[rngs.generator(*key, "samples", p, N, s) for s in seeds],
        noise_rngs=[rngs.generator(*key, "noise", p, N, s) for s in seeds] if sigma > 0 else None,
        block=int(params.get("block", 32)),
        log=log,
    )
    times = trace.steps / N
    K = times.size
    Q = np.full((3, S, K, p, p), np.nan)
    M = np.full((3, S, K, p, pstar), np.nan)
    eps = np.full((3, S, K), np.nan)
    t_half = np.full((3, S), np.nan)
    diverged = np.zeros((3, S), dtype=np.int8)
    Q[0], M[0], eps[0] = trace.Q, trace.M, trace.eps
    threshold = ode.half_plateau_threshold(p, pstar, b=b)
    t_half[0] = ode.first_crossing(times, trace.eps, threshold)
    diverged[0] = trace.diverged
    options = _ode_options(params)
    for s in range(S):
        Q0, M0, T = trace.Q[s, 0], trace.M[s, 0], trace.T[s]
        starts = {1: (Q0, M0, T), 2: (spec.q0 * np.eye(p), M0, np.eye(pstar))}
        for src, (q0, m0, t) in starts.items():
            sol = ode.solve(q0, m0, times, a=a, b=b, gamma=gamma, sigma=sigma, T=t, **options)
            Q[src, s], M[src, s], eps[src, s] = sol.Q, sol.M, sol.eps
            t_half[src, s], diverged[src, s] = sol.t_half, sol.diverged
    log(
        "t_half sgd / ode-empirical / ode-isotropic: "
        + "; ".join(
            f"{t_half[0, s]:.2f} / {t_half[1, s]:.2f} / {t_half[2, s]:.2f}" for s in range(S)
        )
    )
    M0 = trace.M[:, 0]
    P0 = implicit_bias.polar_factor(M0)
    baseline = implicit_bias.random_pairing_deviation(
        rngs.generator(*key, "baseline", p, pstar), p, pstar, BASELINE_DRAWS
    )
    src, sd, tm = ("source", "seed", "time")
    return xr.Dataset(
        {
            "eps": _var((src, sd, tm), eps, "clean population error eps_g"),
            "trq": _var((src, sd, tm), np.trace(Q, axis1=-2, axis2=-1) / p, "tr Q / p"),
            "polar_dev": _var(
                (src, sd, tm),
                implicit_bias.polar_deviation(M, P0[None, :, None]),
                "||P(M(t)) - P(M0)||_F, P the polar factor",
            ),
            "sv": _var(
                (src, sd, tm, "n"),
                _singular_values(M),
                "singular values of M(t), descending",
            ),
            "t_half": _var(
                (src, sd), t_half, "first t with eps_g below the threshold (NaN: not reached)", "t"
            ),
            "diverged": _var((src, sd), diverged, "1 if the run blew up, else 0"),
            "m0": _var((sd, "i", "n"), M0, "initial overlap M0 = W0 W*^T / N"),
            "m_end": _var((src, sd, "i", "n"), M[:, :, -1], "M at t_max"),
            "log_m0_norm2": _var((sd,), _log_norm2(M0), "ln ||M0||_F^2"),
            "q0_spread": _var(
                (sd,),
                np.linalg.norm(trace.Q[:, 0] - spec.q0 * np.eye(p), axis=(-2, -1)),
                "||Q0 - q0 I||_F of the empirical init (O(q0 sqrt(p^2 / N)))",
            ),
            **_theory(p, pstar, a, b, gamma, sigma),
            "qstar_gf": _var(
                (),
                ode.plateau_fixed_point(p, pstar, a=a, b=b, gamma=gamma, second_order=False),
                "gradient-flow plateau norm b p* / (a (p + 2))",
            ),
            "plateau_eps_gf": _var((), 2 * threshold, "gradient-flow plateau error"),
            "rate_gf": _var(
                (),
                ode.escape_rate(p, pstar, a=a, b=b, gamma=gamma, second_order=False),
                "gradient-flow escape rate 2 gamma b",
                "1/t",
            ),
            "random_dev_mean": _var(
                (),
                float(baseline.mean()),
                f"mean ||R - P||_F / sqrt(p*) over {BASELINE_DRAWS} Haar R (random pairing)",
            ),
            "random_dev_rms": _var(
                (), float(np.sqrt(np.mean(baseline**2))), "rms of the random-pairing deviation"
            ),
            "steps_per_record": _var((), np.int64(record_every), "SGD steps between records"),
        },
        coords={
            "source": _var(
                (src,), np.array(SOURCES), "sgd, or the ODE from the empirical / isotropic init"
            ),
            "seed": _var((sd,), np.asarray(seeds, dtype=np.int64), "SGD seed"),
            "time": _var((tm,), times, "t = steps / N (samples per input dimension)", "t"),
            "i": _var(("i",), np.arange(p), "student index"),
            "n": _var(("n",), np.arange(pstar), "teacher index"),
        },
    )


def _singular_values(M: np.ndarray) -> np.ndarray:
    """Singular values (..., p*) of M (..., p, p*); NaN where M holds NaN."""
    bad = ~np.isfinite(M).all(axis=(-2, -1))
    sv = np.linalg.svd(np.where(bad[..., None, None], 0.0, M), compute_uv=False)
    sv[bad] = np.nan
    return sv


# --- E3: escape time against N and p (ODE) ------------------------------------------------------


def _escape_time(params, spec, seeds, key, log) -> xr.Dataset:
    p, pstar = int(params["p"]), int(params["pstar"])
    Ns = [int(n) for n in params["N_grid"]]
    for N in Ns:
        check_sizes(N, p, pstar)
    a, b, gamma, sigma = _scales(params, p, pstar)
    second = params["ode"] == "second-order"
    times = _times(float(params["t_max"]), float(params["points_per_unit"]))
    options = _ode_options(params)
    t_half = np.full((len(Ns), len(seeds)), np.nan)
    log_m0 = np.full_like(t_half, np.nan)
    diverged = np.zeros(t_half.shape, dtype=np.int8)
    eps_trace = np.full((len(Ns), times.size), np.nan)
    trq_trace = np.full_like(eps_trace, np.nan)
    for d, s in enumerate(seeds):
        G = rngs.generator(*key, "G", p, pstar, s).standard_normal((p, pstar))
        O = haar_orthogonal(rngs.generator(*key, "O", p, s), p)
        for k, N in enumerate(Ns):
            Q0, M0 = _ode_init(spec, G, O, N)
            sol = ode.solve(
                Q0, M0, times, a=a, b=b, gamma=gamma, sigma=sigma, second_order=second, **options
            )
            t_half[k, d], diverged[k, d], log_m0[k, d] = sol.t_half, sol.diverged, _log_norm2(M0)
            if d == 0:
                eps_trace[k] = sol.eps
                trq_trace[k] = np.trace(sol.Q, axis1=-2, axis2=-1) / p
        log(
            f"escape_time p={p} {params['ode']} draw {s}: t_half = {np.round(t_half[:, d], 3).tolist()}"
        )
    nd = ("N", "seed")
    return xr.Dataset(
        {
            "t_half": _var(
                nd, t_half, "first t with eps_g below the threshold (NaN: not reached)", "t"
            ),
            "log_m0_norm2": _var(nd, log_m0, "ln ||M0||_F^2"),
            "diverged": _var(nd, diverged, "1 if the ODE blew up, else 0"),
            "eps_trace": _var(("N", "time"), eps_trace, "eps_g(t) of draw 0"),
            "trq_trace": _var(("N", "time"), trq_trace, "tr Q(t) / p of draw 0"),
            "second_order": _var((), np.int8(second), "1 with the gamma^2 term, 0 gradient flow"),
            **_theory(p, pstar, a, b, gamma, sigma, second_order=second),
        },
        coords={
            "N": _var(("N",), np.asarray(Ns, dtype=np.int64), "input dimension N"),
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "draw of G (and O)"),
            "time": _var(("time",), times, "t", "t"),
        },
    )


# --- E4: the conserved quantity and the init axis (ODE) -----------------------------------------


def _init_axis(params, spec, variants, seeds, key, log) -> xr.Dataset:
    N, p, pstar = int(params["N"]), int(params["p"]), int(params["pstar"])
    check_sizes(N, p, pstar)
    a, b, gamma, sigma = _scales(params, p, pstar)
    times = _times(float(params["t_max"]), float(params["points_per_unit"]))
    keep = slice(None, None, int(params.get("store_every", 1)))
    options = _ode_options(params)
    V, S, K = len(variants), len(seeds), times[keep].size
    out = {
        "t_half": np.full((V, S), np.nan),
        "polar_dev_max": np.full((V, S), np.nan),
        "diverged": np.zeros((V, S), dtype=np.int8),
        "eps": np.full((V, S, K), np.nan),
        "polar_dev": np.full((V, S, K), np.nan),
        "sv": np.full((V, S, K, pstar), np.nan),
        "m_end": np.full((V, S, p, pstar), np.nan),
        "q0": np.full((S, p, p), np.nan),
        "m0": np.full((S, p, pstar), np.nan),
    }
    for d, s in enumerate(seeds):
        G = rngs.generator(*key, "G", p, pstar, s).standard_normal((p, pstar))
        O = haar_orthogonal(rngs.generator(*key, "O", p, s), p)
        Q0, M0 = _ode_init(spec, G, O, N)
        out["q0"][d], out["m0"][d] = Q0, M0
        P0 = implicit_bias.polar_factor(M0)
        for v, variant in enumerate(variants):
            sol = ode.solve(
                Q0,
                M0,
                times,
                a=a,
                b=b,
                gamma=gamma,
                sigma=sigma,
                second_order=variant == "second-order",
                **options,
            )
            dev = implicit_bias.polar_deviation(sol.M, P0)
            out["t_half"][v, d], out["diverged"][v, d] = sol.t_half, sol.diverged
            out["polar_dev_max"][v, d] = np.max(dev)
            out["eps"][v, d], out["polar_dev"][v, d] = sol.eps[keep], dev[keep]
            out["sv"][v, d] = _singular_values(sol.M[keep])
            out["m_end"][v, d] = sol.M[-1]
            log(
                f"init_axis {params['init']} {variant} draw {s}: t_half={sol.t_half:.3f} "
                f"max polar drift={np.max(dev):.2e} ({sol.nfev} evaluations)"
            )
    theory = [
        _theory(p, pstar, a, b, gamma, sigma, second_order=v == "second-order") for v in variants
    ]
    vs = ("ode", "seed")
    return xr.Dataset(
        {
            "t_half": _var(vs, out["t_half"], "first t with eps_g below the threshold", "t"),
            "polar_dev_max": _var(
                vs, out["polar_dev_max"], "max over the dense time grid of ||P(M(t)) - P(M0)||_F"
            ),
            "diverged": _var(vs, out["diverged"], "1 if the ODE blew up, else 0"),
            "eps": _var((*vs, "time"), out["eps"], "eps_g(t)"),
            "polar_dev": _var((*vs, "time"), out["polar_dev"], "||P(M(t)) - P(M0)||_F"),
            "sv": _var((*vs, "time", "n"), out["sv"], "singular values of M(t), descending"),
            "m_end": _var((*vs, "i", "n"), out["m_end"], "M at t_max"),
            "q0_matrix": _var(("seed", "i", "j"), out["q0"], "initial Q0"),
            "m0": _var(("seed", "i", "n"), out["m0"], "initial M0"),
            "log_m0_norm2": _var(("seed",), _log_norm2(out["m0"]), "ln ||M0||_F^2"),
            "q0": _var((), spec.q0, "init scale q0"),
            "rho": _var((), spec.rho, "init overlap scale rho"),
            "delta": _var((), spec.delta, "init anisotropy delta"),
            "N_input": _var((), np.int64(N), "input dimension N"),
            **_along_ode(theory),
        },
        coords={
            "ode": _var(("ode",), np.array(variants), "with the gamma^2 term, or gradient flow"),
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "draw of G (and O)"),
            "time": _var(("time",), times[keep], "t", "t"),
            "i": _var(("i",), np.arange(p), "student index"),
            "j": _var(("j",), np.arange(p), "student index"),
            "n": _var(("n",), np.arange(pstar), "teacher index"),
        },
    )


# --- E5: Hessian spectra ----------------------------------------------------------------------


def _hessian(params, seeds, key, log) -> xr.Dataset:
    N, p, pstar = int(params["N"]), int(params["p"]), int(params["pstar"])
    check_sizes(N, p, pstar)
    a = resolve_scale(params["a"], p, "a")
    b = resolve_scale(params["b"], pstar, "b")
    method = params.get("method", "fd")
    if method not in ("fd", "analytic"):
        raise ValueError(f"hessian method must be 'fd' or 'analytic', got {method!r}")
    h = float(params.get("h", 1e-5))
    builders = {"plateau": hessian.plateau_point, "solution": hessian.solution_point}
    eig = np.full((len(seeds), 2, p * N), np.nan)
    grad = np.full((len(seeds), 2), np.nan)
    for d, s in enumerate(seeds):
        g = rngs.generator(*key, "hessian", N, p, pstar, s)
        for k, point in enumerate(hessian.POINTS):
            W, Wstar = builders[point](g, N, p, pstar, a=a, b=b)
            if method == "fd":
                H = hessian.hessian_fd(W, Wstar, a=a, b=b, h=h)
            else:
                H = hessian.hessian_analytic(W, Wstar, a=a, b=b)
            eig[d, k] = np.linalg.eigvalsh(H)
            grad[d, k] = np.linalg.norm(hessian.population_gradient(W, Wstar, a=a, b=b))
        log(f"hessian N={N} p={p} p*={pstar} seed {s}: min eigenvalues {eig[d, :, 0]}")
    return xr.Dataset(
        {
            "eigenvalues": _var(("seed", "point", "index"), eig, "Hessian eigenvalues, ascending"),
            "grad_norm": _var(("seed", "point"), grad, "||grad eps||_F at the point"),
            "a": _var((), a, "student second-layer weight a"),
            "b": _var((), b, "teacher second-layer weight b"),
        },
        coords={
            "seed": _var(("seed",), np.asarray(seeds, dtype=np.int64), "draw of the frames"),
            "point": _var(("point",), np.array(hessian.POINTS), "plateau or solution"),
            "index": _var(("index",), np.arange(p * N), "eigenvalue rank"),
        },
    )
