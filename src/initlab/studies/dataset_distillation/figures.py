"""Report figures F1..F6 of the ``dataset_distillation`` brief (§6).

Each entry of `FIGURES` maps the study's aggregated results (experiment name -> `xarray.Dataset`,
dims as in `claims`) to a `matplotlib.figure.Figure`, drawn with the house style of
`initlab.plotting`. Medians over seeds with min-max bars; a series that was not run is left out
(with a note in the axes when nothing is left). Titles state the sizes as run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from initlab import plotting

from .claims import (
    DEFAULT_INIT,
    GATE_D,
    MAIN,
    MEMORY_TARGET,
    ONESTEP_INIT,
    loglog_slope,
    real_memory_curve,
    required_memory,
)

__all__ = ["FIGURES"]

Results = Mapping[str, xr.Dataset]
_INIT_ORDER = ("gauss0.1", "gauss0.001", "gauss1.0", "real")
_COLORS = {
    "dd": "tab:blue",
    "undistilled": "tab:gray",
    "real": "black",
    "subset": "tab:orange",
    "rf": "tab:red",
    "x2": "tab:cyan",
    "chance": "tab:gray",
}


def _get(
    results: Results, variable: str, experiment: str = "distill", **where
) -> xr.DataArray | None:
    """``variable`` at the main cell updated by ``where``; None if absent or all NaN."""
    try:
        ds = results[experiment]
        base = {**MAIN, "init": DEFAULT_INIT} if experiment == "distill" else {}
        sel = {k: v for k, v in {**base, **where}.items() if k in ds.dims}
        da = ds[variable].sel(sel)
    except (KeyError, ValueError):
        return None
    return None if bool(da.isnull().all()) else da


def _stats(da: xr.DataArray) -> tuple[float, float, float]:
    """(median, median - min, max - median) over the seeds that ran."""
    v = np.ravel(da.values)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    med = float(np.median(v))
    return med, med - float(v.min()), float(v.max()) - med


def _series(results: Results, variable: str, xs, axis: str, **where):
    """Medians and (2, n) error bars of ``variable`` along ``axis`` values ``xs``."""
    med, lo, hi, keep = [], [], [], []
    for x in xs:
        da = _get(results, variable, **{axis: x, **where})
        if da is None:
            continue
        m, a, b = _stats(da)
        if np.isfinite(m):
            med.append(m)
            lo.append(a)
            hi.append(b)
            keep.append(x)
    return np.asarray(keep, float), np.asarray(med), np.vstack([lo, hi]) if med else None


def _main_ds(results: Results) -> list[int]:
    da = _get(results, "dd_relmse")
    if da is None:
        return []
    ran = da.notnull().any([dim for dim in da.dims if dim != "d"])
    return [int(d) for d in da["d"].values[ran.values]]


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes)


def _sizes(results: Results) -> str:
    """n, L, r, (m1, m2) and steps as run, from the main cell's run_params."""
    da = _get(results, "run_params")
    params = (
        next((json.loads(p) for p in np.ravel(da.values) if p), None) if da is not None else None
    )
    if params is None:
        return "sizes ?"
    n = params.get("n", "?") if params.get("n_factor") is None else f"{params['n_factor']:g} r d^2"
    return (
        f"n={n}, L={params['L']}, r={params['r']}, (m1, m2)=({params['m1']}, {params['m2']}), "
        f"{params['steps1']}+{params['steps2']} DD steps"
    )


def f1_memory(results: Results) -> Figure:
    """F1: test relMSE against stored floats at d = 64: DD over (m1, m2), real subsets, full data
    and random features."""
    fig, ax = plotting.subplots(width=7.2, height=5.0)
    ds = results["distill"]
    drawn = False
    points = []
    for m1 in ds["m1"].values:
        for m2 in ds["m2"].values:
            da = _get(results, "dd_relmse", d=GATE_D, m1=m1, m2=m2)
            mem = _get(results, "memory_dd_floats", d=GATE_D, m1=m1, m2=m2)
            if da is None or mem is None:
                continue
            med, lo, hi = _stats(da)
            points.append(
                (float(mem.max()), med, lo, hi, int(m1), int(m2), da.notnull().sum().item())
            )
    if points:
        points.sort()
        x, y, lo, hi = (np.array([p[i] for p in points]) for i in range(4))
        ax.errorbar(
            x, y, yerr=[lo, hi], fmt="o", color=_COLORS["dd"], capsize=3, label="DD (m1, m2)"
        )
        for j, p in enumerate(points):
            main = (p[4], p[5]) == (MAIN["m1"], MAIN["m2"])
            ax.annotate(
                f"({p[4]},{p[5]})" + ("" if p[6] > 1 else "¹"),
                (p[0], p[1]),
                textcoords="offset points",
                xytext=(5, 4 if j % 2 else -10),
                fontsize=7,
                weight="bold" if main else "normal",
            )
        drawn = True
    try:
        curve = real_memory_curve(results, GATE_D)
    except ValueError:
        curve = []
    if curve:
        k = np.array([c[0] for c in curve], float)
        ax.plot(
            k * (GATE_D + 1),
            [c[1] for c in curve],
            "s-",
            color=_COLORS["subset"],
            label="random real subsets (same learner); last = all n",
        )
        for j, (kk, c) in enumerate(zip(k, curve)):
            ax.annotate(
                f"k={int(kk)}",
                (kk * (GATE_D + 1), c[1]),
                textcoords="offset points",
                xytext=(4, -10 if j % 2 else 5),
                fontsize=7,
                color=_COLORS["subset"],
            )
        drawn = True
    for var, label, style in (
        ("real_relmse", "full real data (all n points)", "--"),
        ("rf_relmse", "random features on all n points", ":"),
    ):
        da = _get(results, var, d=GATE_D)
        if da is not None:
            ax.axhline(
                _stats(da)[0],
                ls=style,
                color=_COLORS["real" if "real" in var else "rf"],
                label=label,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("stored floats (DD: (m1/2) d + m2 (d+1); real: k (d+1))")
    ax.set_ylabel("test relMSE")
    ax.set_title(
        f"F1: error against memory, d={GATE_D} ({_sizes(results)})\n"
        "median over seeds, min-max bars; ¹ one seed",
        fontsize=9,
    )
    if drawn:
        ax.legend(fontsize=8, loc="lower center")
    else:
        _no_data(ax, "distill at d=64")
    return fig


def f2_alignment(results: Results) -> Figure:
    """F2: energy fractions in span(U) against d, with chance r/d."""
    fig, ax = plotting.subplots(width=6.5, height=4.6)
    ds_ = _main_ds(results)
    series = [
        ("dd_x_energy", "e(X1): distilled inputs", "o-", _COLORS["dd"]),
        ("dd_w1_energy", "e(W1): first layer from DD", "D-", "tab:purple"),
        ("real_w1_energy", "e(W1): first layer from all n real points", "s--", _COLORS["real"]),
        ("dd_x2_energy", "e(X2): stage-2 inputs", "v:", _COLORS["x2"]),
    ]
    drawn = False
    for var, label, fmt, color in series:
        x, med, bars = _series(results, var, ds_, "d")
        if x.size:
            ax.errorbar(x, med, yerr=bars, fmt=fmt, color=color, capsize=3, label=label)
            drawn = True
    # the equal-memory real subset at each d
    xs, meds, bars = [], [], [[], []]
    for d in ds_:
        k = _get(results, "subset_k_equal_memory", d=d)
        da = _get(results, "subset_w1_energy", d=d, k=int(k.max())) if k is not None else None
        if da is None:
            continue
        m, lo, hi = _stats(da)
        xs.append(d)
        meds.append(m)
        bars[0].append(lo)
        bars[1].append(hi)
    if xs:
        ax.errorbar(
            xs,
            meds,
            yerr=bars,
            fmt="^--",
            color=_COLORS["subset"],
            capsize=3,
            label="e(W1): equal-memory real subset",
        )
    if ds_:
        grid = np.array(ds_, float)
        ax.plot(grid, MAIN["r"] / grid, "k:", lw=1, label="chance r/d")
    ax.set_xscale("log", base=2)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("input dimension d")
    ax.set_ylabel("energy fraction in span(U)")
    ax.set_title(f"F2: alignment with span(U) ({_sizes(results)})", fontsize=9)
    if drawn:
        ax.legend(fontsize=8)
    else:
        _no_data(ax, "distill main grid")
    return fig


def f3_error_vs_d(results: Results) -> Figure:
    """F3: relMSE against d at fixed (m1, m2) with the baselines; memory against d."""
    fig, (ax, mx) = plotting.subplots(1, 2, width=5.0, height=4.4)
    ds_ = _main_ds(results)
    for var, label, fmt, color in (
        ("dd_relmse", "DD", "o-", _COLORS["dd"]),
        ("real_relmse", "all n real points", "s--", _COLORS["real"]),
        ("rf_relmse", "random features (all n)", "v:", _COLORS["rf"]),
        ("undistilled_relmse", "undistilled init", "x:", _COLORS["undistilled"]),
    ):
        x, med, bars = _series(results, var, ds_, "d")
        if x.size:
            ax.errorbar(x, med, yerr=bars, fmt=fmt, color=color, capsize=3, label=label)
    xs, meds = [], []
    for d in ds_:
        k = _get(results, "subset_k_equal_memory", d=d)
        da = _get(results, "subset_relmse", d=d, k=int(k.max())) if k is not None else None
        if da is not None:
            xs.append(d)
            meds.append(_stats(da)[0])
    if xs:
        ax.plot(xs, meds, "^--", color=_COLORS["subset"], label="equal-memory real subset")
    ax.axhline(MEMORY_TARGET, color="grey", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input dimension d")
    ax.set_ylabel("test relMSE (median, min-max)")
    ax.set_title("relMSE at fixed (m1, m2)")
    if ds_:
        ax.legend(fontsize=7)
        dd = [float(_get(results, "memory_dd_floats", d=d).max()) for d in ds_]
        real = [float(_get(results, "memory_real_floats", d=d).max()) for d in ds_]
        mx.plot(
            ds_,
            dd,
            "o-",
            color=_COLORS["dd"],
            label=f"M_DD = (m1/2) d + m2 (d+1), slope {loglog_slope(ds_, dd):.2f}",
        )
        mx.plot(
            ds_,
            real,
            "s--",
            color=_COLORS["real"],
            label=f"M_real = n (d+1), slope {loglog_slope(ds_, real):.2f}",
        )
        mx.legend(fontsize=7)
    else:
        _no_data(ax, "distill main grid")
        _no_data(mx, "distill main grid")
    mx.set_xscale("log", base=2)
    mx.set_yscale("log")
    mx.set_xlabel("input dimension d")
    mx.set_ylabel("stored floats")
    mx.set_title("memory of the training set")
    fig.suptitle(f"F3: DD across d ({_sizes(results)})", fontsize=9)
    return fig


def f4_init(results: Results) -> Figure:
    """F4: relMSE and e(X1) per init arm, distilled against undistilled, at d = 64."""
    fig, (ax, ex) = plotting.subplots(1, 2, width=4.6, height=4.2)
    present = [str(i) for i in results["distill"]["init"].values]
    inits = [i for i in _INIT_ORDER if i in present] + [i for i in present if i not in _INIT_ORDER]
    drawn = False
    for panel, (dd_var, un_var, ylabel) in zip(
        (ax, ex),
        (
            ("dd_relmse", "undistilled_relmse", "test relMSE"),
            ("dd_x_energy", "undistilled_x_energy", "e(X1) in span(U)"),
        ),
    ):
        for offset, var, label, color, marker in (
            (-0.12, dd_var, "distilled", _COLORS["dd"], "o"),
            (0.12, un_var, "undistilled (zero DD steps)", _COLORS["undistilled"], "x"),
        ):
            xs, meds, lo, hi = [], [], [], []
            for i, init in enumerate(inits):
                da = _get(results, var, d=GATE_D, init=init)
                if da is None:
                    continue
                m, a, b = _stats(da)
                xs.append(i + offset)
                meds.append(m)
                lo.append(a)
                hi.append(b)
            if xs:
                panel.errorbar(
                    xs,
                    meds,
                    yerr=[lo, hi],
                    fmt=marker,
                    color=color,
                    capsize=3,
                    label=label,
                    ls="none",
                )
                drawn = True
        panel.set_xticks(range(len(inits)), inits)
        panel.set_xlabel("init of the distilled points")
        panel.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.axhline(MEMORY_TARGET, color="grey", lw=0.8)
    ex.axhline(MAIN["r"] / GATE_D, color="k", ls=":", lw=1, label="chance r/d")
    ex.set_ylim(0, 1.02)
    if drawn:
        ax.legend(fontsize=7)
        ex.legend(fontsize=7)
    else:
        _no_data(ax, "init arms")
    fig.suptitle(f"F4: init sweep at d={GATE_D} ({_sizes(results)})", fontsize=9)
    return fig


def f5_onestep(results: Results) -> Figure:
    """F5: e(x) after one step of DD against d, log-log, with chance r/d."""
    fig, ax = plotting.subplots(width=5.5, height=4.2)
    da = _get(results, "onestep_x_energy", "onestep", init=ONESTEP_INIT)
    chance = _get(results, "chance_energy", "onestep", init=ONESTEP_INIT)
    if da is None:
        _no_data(ax, "onestep")
        return fig
    da = da.dropna("d", how="all")
    ds_ = [int(d) for d in da["d"].values]
    stats = [_stats(da.sel(d=d)) for d in ds_]
    ax.errorbar(
        ds_,
        [s[0] for s in stats],
        yerr=[[s[1] for s in stats], [s[2] for s in stats]],
        fmt="o-",
        color=_COLORS["dd"],
        capsize=3,
        label="e(x) after one DD step",
    )
    if chance is not None:
        ax.plot(ds_, chance.sel(d=ds_).values, "k:", label="chance r/d")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input dimension d")
    ax.set_ylabel("energy fraction in span(U)")
    ax.set_title(
        f"F5: one-step DD from 1e-3 N(0, I) (seeds: {da.sizes.get('seed', 1)})", fontsize=9
    )
    ax.legend(fontsize=8)
    return fig


def f6_required_memory(results: Results) -> Figure:
    """F6: fewest stored floats reaching relMSE <= MEMORY_TARGET against d (and against L when
    several widths ran), DD and real data, with fitted log-log slopes and slope-1/2 guides."""
    req = required_memory(results)
    widths = sorted(set(req["L"]))
    fig, axes = plotting.subplots(1, 2 if len(widths) > 1 else 1, width=6.4, height=4.6)
    ax = axes[0] if len(widths) > 1 else axes
    at = [i for i, w in enumerate(req["L"]) if w == MAIN["L"]]
    if at:
        d = np.array([req["d"][i] for i in at], float)
        for key, label, color, fmt in (
            ("dd", "DD", _COLORS["dd"], "o-"),
            ("real", "real data (subsets / all n)", _COLORS["real"], "s--"),
        ):
            y = np.array([req[key][i] for i in at], float)
            ok = np.isfinite(y)
            if ok.any():
                ax.plot(
                    d[ok], y[ok], fmt, color=color, label=f"{label}: slope {loglog_slope(d, y):.2f}"
                )
        for i in at:
            if req["dd_pair"][i] is not None:
                ax.annotate(
                    str(req["dd_pair"][i]),
                    (req["d"][i], req["dd"][i]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(4, -11),
                    color=_COLORS["dd"],
                )
            if req["real_k"][i] is not None:
                ax.annotate(
                    f"k={req['real_k'][i]}",
                    (req["d"][i], req["real"][i]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(4, -11),
                )
        finite = [req["dd"][i] for i in at if np.isfinite(req["dd"][i])]
        if finite:
            d0, y0 = d[0], finite[0]
            for p, ls in ((1, (0, (1, 3))), (2, (0, (4, 3)))):
                ax.plot(d, y0 * (d / d0) ** p, color="grey", ls=ls, lw=0.8, label=f"∝ d^{p}")
        ax.legend(
            fontsize=7,
            title=f"DD over {req['pairs'][at[0]]} (m1, m2) pairs run at every d",
            title_fontsize=7,
        )
    else:
        _no_data(ax, f"distill at L={MAIN['L']}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("input dimension d")
    ax.set_ylabel(f"fewest stored floats with median relMSE <= {MEMORY_TARGET:g}")
    ax.set_title(f"against d (L={MAIN['L']})", fontsize=9)
    if len(widths) > 1:
        lx = axes[1]
        by_d: dict[int, list] = {}
        for i, dv in enumerate(req["d"]):
            by_d.setdefault(dv, []).append(i)
        d_best = max(by_d, key=lambda dv: (len(by_d[dv]), dv))
        idx = sorted(by_d[d_best], key=lambda i: req["L"][i])
        w = [req["L"][i] for i in idx]
        for key, label, color, fmt in (
            ("dd", "DD", _COLORS["dd"], "o-"),
            ("real", "real data", _COLORS["real"], "s--"),
        ):
            y = [req[key][i] for i in idx]
            lx.plot(w, y, fmt, color=color, label=f"{label}: slope {loglog_slope(w, y):.2f}")
        lx.set_xscale("log", base=2)
        lx.set_yscale("log")
        lx.set_xlabel("width L")
        lx.set_title(f"against L (d={d_best})", fontsize=9)
        lx.legend(fontsize=7)
    fig.suptitle(
        f"F6: memory needed for relMSE <= {MEMORY_TARGET:g}\n({_sizes(results)})", fontsize=9
    )
    return fig


FIGURES: dict[str, Callable[[Results], Figure]] = {
    "f1_memory": f1_memory,
    "f2_alignment": f2_alignment,
    "f3_error_vs_d": f3_error_vs_d,
    "f4_init": f4_init,
    "f5_onestep": f5_onestep,
    "f6_required_memory": f6_required_memory,
}
