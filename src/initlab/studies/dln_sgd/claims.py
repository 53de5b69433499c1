"""Claims A0..A9 (pass/fail) and R1..R4 (report-only) of the ``dln_sgd`` brief (§4).

Each claim is measured from the study's aggregated results, a mapping from experiment name to an
`xarray.Dataset` (outer merges of per-point files; cells that were not run are NaN):

``staircase``    dims (depth, init, seed, mode[, time])      E1, E3 (and E2's SGD arm)
``gd``           dims (depth, init, seed, mode[, time])      E2's GD arm
``label_noise``  dims (init, sigma, seed, mode[, time])      E8
``diffusion``    dims (init, sigma, seed, mode)              E0
``stationary``   dims (init, seed, sample, mode)             E4
``scalar``       dims (init, model, seed, eta_B, snapshot, chain, mode)   E5, E6, E7
``transient``    dims (init, seed, model, chain, mode)       E9

A seed counts as run when its ``diverged`` flag is present (0 or 1); the seeds of a point that was
not run are dropped, while a run seed with NaN quantities (never learned, or diverged) stays and
counts against the claim. A point that was not run raises, which `initlab.claims.evaluate` turns
into a FAIL with the reason. Composite conditions of the brief are split into separate rows
(A4-band / A4-mean, A5-m / A5-D, A7b-var / A7b-mean, A8-order / A8-g1 / A8-g4, A9-median /
A9-range). Two-sided bands are measured as the worst excess over the band, max(lo - x, x - hi):
<= 0 means every value lies inside, and its size is the margin.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from initlab.claims import Claim, Measurement, Threshold, at_least, at_most

from .design import A8_GAMMAS, E1_INIT, ETA_B, with_variants
from .diffusion import aligned_diffusion, critical_noise, peak_fraction

__all__ = ["CLAIMS"]

Results = Mapping[str, xr.Dataset]


def less_than(value: float) -> Threshold:
    return Threshold("<", value)


def greater_than(value: float) -> Threshold:
    return Threshold(">", value)


def _fmt(values, digits=3) -> str:
    return ", ".join(f"{v:.{digits}g}" for v in np.ravel(values))


def _point(results: Results, experiment: str, **where) -> xr.Dataset:
    """One point of ``experiment`` with only the seeds that were run; raises if none was."""
    if experiment not in results:
        raise ValueError(f"experiment {experiment!r} was not run")
    ds = results[experiment]
    try:
        ds = ds.sel(with_variants(ds.dims, where))
    except KeyError as exc:
        raise ValueError(f"{experiment}: no run at {where} ({exc})") from None
    if "seed" in ds.dims:
        flag = ds["diverged"]
        ran = flag.notnull()
        if set(flag.dims) - {"seed"}:
            ran = ran.any([d for d in flag.dims if d != "seed"])
        ds = ds.isel(seed=np.flatnonzero(ran.values))
        if ds.sizes["seed"] == 0:
            raise ValueError(f"{experiment} at {where}: not run")
    return ds


def _excess(values, lo: float, hi: float) -> float:
    """max(lo - x, x - hi) over the values: <= 0 iff all lie in [lo, hi]; NaN counts as outside."""
    v = np.ravel(np.asarray(values, dtype=float))
    if v.size == 0:
        raise ValueError("no values to compare")
    if not np.all(np.isfinite(v)):
        return float("inf")
    return float(np.max(np.maximum(lo - v, v - hi)))


def _depths(results: Results) -> list[int]:
    return [int(d) for d in results["staircase"]["depth"].values]


# --- E0: closed-form diffusion ------------------------------------------------------------------


def _a0(results):
    ds = _point(results, "diffusion", init="gamma-4")
    ratio = ds["ratio"]
    parts = [
        f"sigma={s:g}: {float(r.min()):.4f}-{float(r.max()):.4f}"
        for s, r in zip(ds["sigma"].values, ratio)
    ]
    value = float(np.abs(ratio - 1).max()) if bool(ratio.notnull().all()) else float("nan")
    return Measurement(value, f"{ratio.size} ratios over (sigma, seed, mode); " + "; ".join(parts))


# --- E1: staircase, diffusion peaks, stationarity at sigma = 0 ------------------------------------


def _e1(results, depth) -> xr.Dataset:
    return _point(results, "staircase", depth=depth, init=E1_INIT[depth])


def _ordered_fraction(t_learn: xr.DataArray) -> float:
    """Fraction of seeds whose t_learn90 strictly increases with k (NaN: not ordered)."""
    return float((t_learn.diff("mode") > 0).all("mode").mean())


def _a1a(results):
    frac = {L: _ordered_fraction(_e1(results, L)["t_learn90"]) for L in (2, 3, 4)}
    return Measurement(
        min(frac[3], frac[4]),
        f"L=3: {frac[3]:.3f}, L=4: {frac[4]:.3f}; report-only L=2: {frac[2]:.3f}",
    )


def _sequential_fraction(seq: xr.DataArray) -> float:
    return float((seq < 0.5).mean())


def _a1b(results):
    seq3 = _e1(results, 3)["seq_index"]
    seq4 = _e1(results, 4)["seq_index"]
    q = lambda x, p: (
        float(np.nanpercentile(x, p)) if bool(x.notnull().any()) else float("nan")
    )  # noqa: E731
    return Measurement(
        _sequential_fraction(seq3),
        f"L=3: {int((seq3 < 0.5).sum())}/{seq3.size} seeds, median {q(seq3, 50):.3f}, 90th pct "
        f"{q(seq3, 90):.3f}, max {float(seq3.max()):.3f}; report-only L=4: fraction "
        f"{_sequential_fraction(seq4):.3f}, 90th pct {q(seq4, 90):.3f}",
    )


def _a2(results):
    frac = {}
    for L in (2, 3, 4):
        ds = _e1(results, L)
        frac[L] = float((ds["t_peak"] < ds["t_learn90"]).mean())
    return Measurement(min(frac.values()), ", ".join(f"L={L}: {f:.3f}" for L, f in frac.items()))


def _a3(results):
    worst, parts, smallest = 0.0, [], []
    for L in (2, 3, 4):
        m_peak = _e1(results, L)["m_peak"].mean("seed")
        dev = np.abs(m_peak.values - peak_fraction(L))
        worst = max(worst, float(np.max(dev[:2])) if np.all(np.isfinite(dev[:2])) else float("inf"))
        parts.append(f"L={L}: {_fmt(m_peak.values[:2])} vs {peak_fraction(L):.3f}")
        smallest.append(f"L={L}: {float(m_peak.values[-1]):.3f}")
    return Measurement(
        worst, "; ".join(parts) + "; report-only smallest mode: " + ", ".join(smallest)
    )


def _late(results, variable):
    values, parts = [], []
    for L in (2, 3, 4):
        ds = _e1(results, L)
        v = ds[variable].values
        values.append(v.max() if np.all(np.isfinite(v)) else np.inf)
        t_end = float(ds["t_end"])
        parts.append(f"L={L}: {values[-1]:.2g} over t in [{t_end - _late_window(ds):g}, {t_end:g}]")
    return Measurement(float(max(values)), "; ".join(parts))


def _late_window(ds) -> float:
    import json

    return float(json.loads(str(ds["run_params"].values))["late_window"])


def _a5m(results):
    return _late(results, "late_dev_max")


def _a5d(results):
    return _late(results, "late_D_max")


# --- E2: SGD vs GD ---------------------------------------------------------------------------------


def _learning_ratios(results):
    sgd = _point(results, "staircase", depth=3, init="gamma-4")["t_learn90"]
    gd = _point(results, "gd", depth=3, init="gamma-4")["t_learn90"]
    seeds = np.intersect1d(sgd["seed"].values, gd["seed"].values)
    if seeds.size == 0:
        raise ValueError("no seed was run by both SGD (staircase) and GD")
    return sgd.sel(seed=seeds) / gd.sel(seed=seeds)


def _a4_band(results):
    ratio = _learning_ratios(results)
    inside = (ratio >= 0.85) & (ratio <= 1.15)
    return Measurement(
        float(inside.mean()),
        f"{int(inside.sum())}/{ratio.size} ratios in [0.85, 1.15]; range {float(ratio.min()):.3f}-"
        f"{float(ratio.max()):.3f}",
    )


def _a4_mean(results):
    means = _learning_ratios(results).mean("seed")
    return Measurement(
        _excess(means, 0.95, 1.10), f"seed-mean per mode: {_fmt(means.values, 4)} vs [0.95, 1.10]"
    )


# --- E5, E6, E7: the 1-D models at stationarity -----------------------------------------------------


def _scalar_var(results, model, label) -> tuple[np.ndarray, xr.Dataset]:
    ds = _point(results, "scalar", init="aligned-s", model=model).sel(eta_B=label)
    u = ds["u"]
    return u.var(("seed", "snapshot", "chain")).values, ds


def _a6a(results):
    values, parts = [], []
    for model in ("sgd", "em"):
        var, ds = _scalar_var(results, model, ETA_B["base"])
        r = var / ds["exact_var"].values
        values.append(r)
        parts.append(f"{model}: {_fmt(r, 4)}")
    v = np.concatenate(values)
    return Measurement(
        float(np.abs(v - 1).max()), "Var(u_k)/exact per mode at (0.004, 1): " + "; ".join(parts)
    )


def _a6b(results):
    values, parts = [], []
    for model in ("sgd", "em"):
        ds = _point(results, "scalar", init="aligned-s", model=model).sel(eta_B=ETA_B["base"])
        p = ds["ks_exact_p"].isel(snapshot=0)
        values.append(p.values.ravel())
        parts.append(f"{model}: {_fmt(p.values, 3)}")
    return Measurement(
        float(np.min(np.concatenate(values))), "KS p per mode at t=10: " + "; ".join(parts)
    )


def _a6c(results):
    values, parts = [], []
    for model in ("sgd", "em"):
        base = _scalar_var(results, model, ETA_B["base"])[0]
        half = _scalar_var(results, model, ETA_B["half_eta"])[0]
        double = _scalar_var(results, model, ETA_B["double_b"])[0]
        r_eta, r_b = base / half, base / double
        values += [r_eta, r_b]
        parts.append(f"{model}: Var(eta)/Var(eta/2) {_fmt(r_eta)}, Var(B)/Var(2B) {_fmt(r_b)}")
    v = np.concatenate(values)
    return Measurement(float(np.abs(v - 2).max()), "; ".join(parts))


def _a7a(results):
    values, parts = [], []
    for label in (ETA_B["base"], ETA_B["half_eta"]):
        var, ds = _scalar_var(results, "sgd", label)
        r = var / ds["tau"].values
        values.append(r)
        parts.append(f"eta={label.split('/')[0]}: {_fmt(r, 4)}")
    v = np.concatenate(values)
    return Measurement(float(np.abs(v - 1).max()), "scalar SGD Var(u_k)/tau_k: " + "; ".join(parts))


# --- E4: the full network at stationarity -----------------------------------------------------------


def _stationary(results):
    ds = _point(results, "stationary", init="gamma-4")
    m = ds["m"]
    return (
        ds,
        m.var(("seed", "sample")).values / ds["exact_var"].values,
        m.mean(("seed", "sample")).values / ds["s"].values - 1,
    )


def _a7b_var(results):
    _, ratio, _ = _stationary(results)
    return Measurement(
        float(np.abs(np.log2(ratio)).max()),
        f"Var(m_k)/exact-SDE variance per mode: {_fmt(ratio)} (in [0.5, 2] iff |log2| <= 1)",
    )


def _a7b_mean(results):
    _, _, shift = _stationary(results)
    return Measurement(float(np.abs(shift).max()), f"mean(m_k)/s_k - 1 per mode: {_fmt(shift)}")


# --- E3: the init axis --------------------------------------------------------------------------------


def _medians(results, depth, inits) -> dict[str, float]:
    out = {}
    for init in inits:
        seq = _point(results, "staircase", depth=depth, init=init)["seq_index"]
        # a seed whose index is undefined (a mode never learned) is not sequential: rank it last
        out[init] = float(np.median(np.where(np.isfinite(seq.values), seq.values, np.inf)))
    return out


def _a8_order(results):
    med = _medians(results, 3, A8_GAMMAS)
    v = list(med.values())
    drops = [a - b for a, b in zip(v, v[1:])]
    return Measurement(
        min(drops), "median varsigma at L=3: " + ", ".join(f"{k}: {x:.3f}" for k, x in med.items())
    )


def _a8_g4(results):
    med = _medians(results, 3, ["gamma-4"])["gamma-4"]
    return Measurement(med, "median varsigma at L=3, gamma=4")


def _a8_g1(results):
    med = _medians(results, 3, ["gamma-1"])["gamma-1"]
    return Measurement(med, "median varsigma at L=3, gamma=1")


# --- E9: learning times of the 1-D models -------------------------------------------------------------


def _transient_ratios(results):
    ds = results["transient"]
    out = {}
    for init in ds["init"].values:
        point = _point(results, "transient", init=str(init))
        ratio = (point["t_learn90"] / point["gf_t_learn90"]).transpose(..., "mode")
        for model in point["model"].values:
            out[str(init), str(model)] = ratio.sel(model=model)
    if not out:
        raise ValueError("transient: not run")
    return out


def _a9_median(results):
    medians, parts = [], []
    for (init, model), r in _transient_ratios(results).items():
        med = (
            np.nanmedian(r.values.reshape(-1, r.sizes["mode"]), axis=0)
            if bool(r.notnull().all())
            else np.full(r.sizes["mode"], np.nan)
        )
        medians.append(med)
        parts.append(f"{init} {model}: {_fmt(med, 4)}")
    return Measurement(
        _excess(np.concatenate(medians), 0.97, 1.05),
        "medians per mode vs [0.97, 1.05]: " + "; ".join(parts),
    )


def _a9_range(results):
    qs, parts = [], []
    for (init, model), r in _transient_ratios(results).items():
        v = r.values.reshape(-1, r.sizes["mode"])
        if not np.all(np.isfinite(v)):
            return Measurement(
                float("inf"), f"{init} {model}: some chains never reached 0.9 s or diverged"
            )
        q = np.percentile(v, [5, 95], axis=0)
        qs.append(q.ravel())
        parts.append(f"{init} {model}: " + ", ".join(f"[{a:.3f}, {b:.3f}]" for a, b in q.T))
    return Measurement(
        float(np.abs(np.concatenate(qs) - 1).max()), "5-95% per mode: " + "; ".join(parts)
    )


# --- report-only ----------------------------------------------------------------------------------


def _r1(results):
    ds = _e1(results, 3)
    params_eta = float(ds["eta"])
    s = ds["s"].values
    u_star = peak_fraction(3) * s
    aligned = aligned_diffusion(u_star, s, 3, eta=params_eta, batch=1, sigma=0.0)
    ratio = ds["D_peak"].median("seed").values / aligned
    return Measurement(
        float(np.mean(ratio)),
        f"seed-median max_t D_k / aligned D_k(u*) for s = {_fmt(s)}: {_fmt(ratio)}",
    )


def _r2(results):
    ds = results["label_noise"]
    parts, last = [], float("nan")
    for sigma in ds["sigma"].values:
        point = _point(results, "label_noise", init="gamma-4", sigma=float(sigma))
        peak = point["D_transient_max"].mean("seed").values
        late = point["late_D_mean"].mean("seed").values
        for k, sk in enumerate(point["s"].values):
            parts.append(f"sigma/s={sigma / sk:.2f}: {peak[k]:.3g} vs {late[k]:.3g}")
            if sk == point["s"].values.min() and sigma == ds["sigma"].values.max():
                last = float(peak[k] / late[k])
    return Measurement(
        last,
        f"measured: transient max / late mean at the largest sigma/s; sigma_crit(L=3) = "
        f"{critical_noise(3):.2f}; seed-mean transient max D_k (t <= t_learn90) vs time-mean over "
        "the final window: " + "; ".join(parts),
    )


def _r3(results):
    ds = _point(results, "scalar", init="aligned-s", model="sgd").sel(eta_B=ETA_B["base"])
    p = ds["ks_gauss_p"].isel(snapshot=0).values.ravel()
    return Measurement(
        float(p.max()), f"KS p of scalar SGD at t=10 against N(s_k, tau_k) per mode: {_fmt(p)}"
    )


def _r4(results):
    parts, value = [], float("nan")
    for L in (2, 4):
        inits = sorted((str(i) for i in results["staircase"]["init"].values), key=_gamma)
        ran = [i for i in inits if _has(results, L, i)]
        if not ran:
            continue
        med = _medians(results, L, ran)
        fr = {
            i: _ordered_fraction(_point(results, "staircase", depth=L, init=i)["t_learn90"])
            for i in ran
        }
        parts.append(
            f"L={L}: "
            + ", ".join(f"{i}: median varsigma {med[i]:.2f}, ordered {fr[i]:.2f}" for i in ran)
        )
        if L == 2:
            value = med[ran[-1]]
    if not parts:
        raise ValueError("staircase: no run at L=2 or L=4")
    return Measurement(
        value, "measured: median varsigma at L=2 and the largest gamma; " + "; ".join(parts)
    )


def _gamma(init: str) -> float:
    return float(init.split("-", 1)[1])


def _has(results, depth, init) -> bool:
    try:
        _point(results, "staircase", depth=depth, init=init)
    except ValueError:
        return False
    return True


CLAIMS: list[Claim] = [
    Claim(
        "A0",
        "The closed-form per-mode diffusion D_k = (eta/B) Var g_k is exact.",
        "diffusion (E0): closed-form Var g_k divided by the sample variance of g_k over fresh "
        "(x, eps) (2e5 at quick scale), at the L=3, gamma=4 SGD state at t_state (4.5), per (sigma "
        "in {0, 0.5}, seed, mode); max |ratio - 1|",
        at_most(0.05),
        _a0,
        init="gamma-4",
    ),
    Claim(
        "A1a",
        "Modes are learned one at a time, in order of decreasing singular value s_k.",
        "staircase (E1): fraction of seeds with t_learn90 strictly increasing in k; minimum over "
        "L=3 (gamma=4) and L=4 (gamma=2.5)",
        at_least(0.90),
        _a1a,
        init="gamma-4 (L=3), gamma-2.5 (L=4)",
    ),
    Claim(
        "A1b",
        "Saddle-to-saddle: each mode is learned while the next one still sits near its saddle.",
        "staircase (E1), L=3, gamma=4: fraction of seeds with sequential index "
        "varsigma = max_k m_{k+1}(t_learn90,k)/s_{k+1} < 0.5",
        at_least(0.90),
        _a1b,
        init="gamma-4",
    ),
    Claim(
        "A2",
        "Without label noise the diffusion along a mode peaks before that mode is learned.",
        "staircase (E1, sigma=0): fraction of (seed, mode) pairs with t_peak = argmax_t D_k < "
        "t_learn90; minimum over L in {2, 3, 4}",
        at_least(0.95),
        _a2,
        init="gamma-3 (L=2), gamma-4 (L=3), gamma-2.5 (L=4)",
    ),
    Claim(
        "A3",
        "The diffusion peaks at the inflection point u* = 2(L-1)/(3L-2) s of the learning curve.",
        "staircase (E1): |seed-mean of m_k(t_peak)/s_k - 2(L-1)/(3L-2)| for the two largest modes; "
        "maximum over k and L in {2, 3, 4}",
        at_most(0.05),
        _a3,
        init="gamma-3 (L=2), gamma-4 (L=3), gamma-2.5 (L=4)",
    ),
    Claim(
        "A4-band",
        "SGD noise does not change the saddle-to-saddle staircase: SGD learns each mode when GD does.",
        "staircase vs gd (E2), L=3, gamma=4, same init and eta: fraction of t_learn90(SGD)/"
        "t_learn90(GD) ratios over (seed, mode) in [0.85, 1.15]",
        at_least(0.95),
        _a4_band,
        init="gamma-4",
    ),
    Claim(
        "A4-mean",
        "On average over seeds SGD's learning times match GD's.",
        "staircase vs gd (E2): per mode, seed-mean of t_learn90(SGD)/t_learn90(GD); worst excess "
        "over the band [0.95, 1.10] (<= 0: all inside)",
        at_most(0.0),
        _a4_mean,
        init="gamma-4",
    ),
    Claim(
        "A5-m",
        "Without label noise SGD converges to the gradient-flow fixed point m_k = s_k.",
        "staircase (E1, sigma=0): max over L, seeds, modes and t in the final 10 time units "
        "[30, 40] of |m_k - s_k|",
        less_than(1e-4),
        _a5m,
        init="gamma-3 (L=2), gamma-4 (L=3), gamma-2.5 (L=4)",
    ),
    Claim(
        "A5-D",
        "Without label noise the diffusion vanishes at the fixed point (a point-mass stationary law).",
        "staircase (E1, sigma=0): max over L, seeds, modes and t in [30, 40] of D_k",
        less_than(1e-8),
        _a5d,
        init="gamma-3 (L=2), gamma-4 (L=3), gamma-2.5 (L=4)",
    ),
    Claim(
        "A6a",
        "The 1-D SDE is exact for aligned-balanced SGD: same stationary variance.",
        "scalar (E5 sgd, E6 em, E7): Var(u_k) pooled over snapshots and chains at (eta, B) = "
        "(0.004, 1) divided by the exact stationary-density variance; max |ratio - 1| over "
        "models and modes",
        at_most(0.15),
        _a6a,
        init="aligned-s",
    ),
    Claim(
        "A6b",
        "The 1-D SDE is exact for aligned-balanced SGD: same stationary distribution.",
        "scalar (E5, E6): KS p-value of the first ks_chains (2000) chains at the first snapshot "
        "(t=10) against the exact stationary CDF, (eta, B) = (0.004, 1), per model and mode; "
        "minimum",
        greater_than(0.001),
        _a6b,
        init="aligned-s",
    ),
    Claim(
        "A6c",
        "The temperature of the per-mode dynamics is eta/B.",
        "scalar (E5, E6): Var(u_k) at (0.004, 1) / at (0.002, 1) and / at (0.004, 2), per model and "
        "mode; max |ratio - 2| over the 12 ratios",
        at_most(0.3),
        _a6c,
        init="aligned-s",
    ),
    Claim(
        "A7a",
        "With label noise the stationary law is approximately Boltzmann at temperature tau_k.",
        "scalar (E5, sgd): Var(u_k)/tau_k with tau_k = L eta sigma^2 s_k^(2-2/L)/(2B), at "
        "eta in {0.004, 0.002}, B=1; max |ratio - 1| over eta and modes",
        at_most(0.2),
        _a7a,
        init="aligned-s",
    ),
    Claim(
        "A7b-var",
        "Qualitatively, the full network's stationary spread follows the 1-D SDE.",
        "stationary (E4), L=3, eta=0.01, sigma=1: Var(m_k) pooled over seeds and samples divided "
        "by the exact 1-D SDE variance at the same (eta, B); max |log2 ratio| over modes (<= 1: "
        "ratio in [0.5, 2])",
        at_most(1.0),
        _a7b_var,
        init="gamma-4",
    ),
    Claim(
        "A7b-mean",
        "Qualitatively, the full network's stationary mean sits at the teacher.",
        "stationary (E4): |mean(m_k)/s_k - 1|; maximum over modes",
        less_than(0.10),
        _a7b_mean,
        init="gamma-4",
    ),
    Claim(
        "A8-order",
        "Small initialization is what produces saddle-to-saddle dynamics.",
        "staircase (E3), L=3: median over seeds of varsigma at gamma = 1, 2, 3, 4; minimum "
        "decrease between consecutive gammas (> 0: strictly decreasing)",
        greater_than(0.0),
        _a8_order,
        init="gamma-1 .. gamma-4",
    ),
    Claim(
        "A8-g4",
        "At small initialization (gamma = 4) learning is sequential.",
        "staircase (E3), L=3, gamma=4: median over seeds of varsigma",
        less_than(0.2),
        _a8_g4,
        init="gamma-4",
    ),
    Claim(
        "A8-g1",
        "At large initialization (gamma = 1) the modes are learned together.",
        "staircase (E3), L=3, gamma=1: median over seeds of varsigma",
        greater_than(0.7),
        _a8_g1,
        init="gamma-1",
    ),
    Claim(
        "A9-median",
        "In the 1-D model noise does not change learning times either.",
        "transient (E9), L=3, u0 in {1e-4, 1e-3}: t_learn90 of scalar SGD or EM divided by the "
        "gradient-flow t_learn90, per chain; median per (u0, model, mode), worst excess over "
        "[0.97, 1.05]",
        at_most(0.0),
        _a9_median,
        init="aligned-0.0001, aligned-0.001",
    ),
    Claim(
        "A9-range",
        "In the 1-D model the spread of learning times around gradient flow is small.",
        "transient (E9): 5th and 95th percentiles over chains of t_learn90(SGD or EM)/"
        "t_learn90(GF) per (u0, model, mode); max |q - 1| (<= 0.15: inside [0.85, 1.15])",
        at_most(0.15),
        _a9_range,
        init="aligned-0.0001, aligned-0.001",
    ),
    Claim(
        "R1",
        "The transient diffusion peak matches the aligned-balanced formula.",
        "staircase (E1), L=3: seed-median of max_t D_k divided by the aligned D_k at u* "
        "(eta/B) L^2 u*^(4-4/L) 2 (s-u*)^2; mean over modes",
        None,
        _r1,
        init="gamma-4",
    ),
    Claim(
        "R2",
        "With label noise above sigma_crit the diffusion maximum moves past learning.",
        "label_noise (E8), L=3, sigma in {0.3, 0.6}: seed-mean transient max of D_k (t <= "
        "t_learn90) against its time-mean over t in [20, 24], per sigma/s_k",
        None,
        _r2,
        init="gamma-4",
    ),
    Claim(
        "R3",
        "The Gaussian (Boltzmann) law is only an approximation of the stationary law.",
        "scalar (E5, sgd), (0.004, 1): KS p-value at t=10 against N(s_k, tau_k); maximum over modes",
        None,
        _r3,
        init="aligned-s",
    ),
    Claim(
        "R4",
        "The staircase at other depths: L=2 needs an exponentially small init.",
        "staircase (E3) at L=2 and L=4: median varsigma and fraction of seeds learning in order, "
        "per gamma",
        None,
        _r4,
        init="gamma sweep at L=2, 4",
    ),
]
