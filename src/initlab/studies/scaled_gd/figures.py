"""Report figures F1..F6 of the ``scaled_gd`` brief (§6).

Each entry of `FIGURES` maps the study's aggregated results (experiment name -> `xarray.Dataset`,
dims as in `claims`) to a `matplotlib.figure.Figure`, built only when called, with the house
style of `initlab.plotting` (which selects the headless Agg backend); save and close it with
`initlab.plotting.save_png`. A series whose data was not run is left out (with a note in the
axes when nothing is left).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from initlab import plotting

from .claims import on_headline

__all__ = ["FIGURES"]

RANDOM_INIT = "random-0.001"
KAPPAS = [1, 10, 100]
Results = Mapping[str, xr.Dataset]
_KAPPA_COLORS = {1: "tab:blue", 10: "tab:orange", 100: "tab:red"}
_RANK_COLORS = ["tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:olive"]


def _get(results: Results, experiment: str, variable: str, **where) -> xr.DataArray | None:
    """``results[experiment][variable].sel(where)``, or None if absent or all NaN."""
    try:
        da = results[experiment][variable].sel(where)
    except (KeyError, ValueError):
        return None
    return None if bool(da.isnull().all()) else da


def _scalar(results: Results, experiment: str, variable: str, **where) -> float | None:
    da = _get(results, experiment, variable, **where)
    return None if da is None else float(da.max())


def _first_seed_trace(da: xr.DataArray) -> np.ndarray:
    """rel_err (iter,) of the first seed that ran, trimmed at the stop."""
    da = da.dropna("seed", how="all")
    v = da.isel(seed=0).values
    return v[: np.flatnonzero(np.isfinite(v))[-1] + 1] if np.isfinite(v).any() else v[:1]


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes)


def _size(results: Results, experiment: str) -> str:
    """The problem size of ``experiment`` as run, e.g. ``n1=n2=40, r=3``, from its run_params."""
    try:
        params = next(json.loads(p) for p in results[experiment]["run_params"].values.ravel() if p)
    except (KeyError, StopIteration):
        return "size ?"
    if "n" in params:
        dims = f"n={params['n']}"
    elif params["n1"] == params["n2"]:
        dims = f"n1=n2={params['n1']}"
    else:
        dims = f"n1={params['n1']}, n2={params['n2']}"
    return dims + (f", r={params['r']}" if experiment != "phase_transition" else "")


def _fmt_g(v) -> str:
    return "?" if v is None else f"{v:g}"


def f1_convergence(results: Results) -> Figure:
    """F1: rel_err vs iteration (log-y), kappa in {1,10,100}; ScaledGD solid, GD dashed, RGD
    dotted (conditioning, spectral, c = 5, first seed)."""
    fig, axes = plotting.subplots(1, 2, width=5.5, height=4.3)
    styles = {"scaledgd": ("-", "ScaledGD"), "gd": ("--", "GD"), "rgd": (":", "RGD")}
    t_max = {}
    for method, (ls, name) in styles.items():
        t_max[name] = _scalar(
            results, "conditioning", "t_max", init="spectral", method=method, c=5.0
        )
        for kappa in KAPPAS:
            da = _get(
                results,
                "conditioning",
                "rel_err",
                init="spectral",
                method=method,
                c=5.0,
                kappa=kappa,
            )
            if da is None:
                continue
            v = _first_seed_trace(da)
            for ax in axes:
                ax.semilogy(
                    np.arange(v.size),
                    v,
                    ls=ls,
                    color=_KAPPA_COLORS[kappa],
                    lw=1.6,
                    label=f"{name}, κ={kappa}",
                )
    eps = _scalar(results, "conditioning", "eps", init="spectral", method="scaledgd", c=5.0)
    for ax in axes:
        if eps is not None:
            ax.axhline(eps, color="grey", lw=0.8)
        ax.set_xlabel("iteration t")
        ax.set_ylabel("relative error ‖X_t − X*‖_F / ‖X*‖_F")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_xlim(0, 300)
    axes[0].set_title("first 300 iterations")
    axes[1].set_title("full runs")
    handles, labels = axes[1].get_legend_handles_labels()
    if handles:
        axes[1].legend(fontsize=8, ncol=3, loc="upper right")
    else:
        _no_data(axes[1], "conditioning")
    budgets = ", ".join(f"{k} {_fmt_g(v)}" for k, v in t_max.items())
    fig.suptitle(
        f"F1: convergence from spectral init ({_size(results, 'conditioning')}, c=5, first seed); eps={_fmt_g(eps)}, "
        f"T_max: {budgets}"
    )
    return fig


def _median_range(da: xr.DataArray, dim: str = "seed"):
    """Median and (lower, upper) error-bar lengths over ``dim``; -1 (not reached) as NaN."""
    da = da.where(da >= 0)
    med = da.median(dim)
    return med.values, np.vstack([(med - da.min(dim)).values, (da.max(dim) - med).values])


def f2_iters_vs_kappa(results: Results) -> Figure:
    """F2: iters_to_eps vs kappa (log-log), median over seeds with min-max bars; slope-0 and
    slope-1 guides."""
    fig, ax = plotting.subplots(width=7.5, height=5.5)
    series = [
        ("conditioning", "spectral", "scaledgd", 5.0, "ScaledGD (spectral)", "o-", "tab:blue"),
        ("conditioning", "spectral", "gd", 5.0, "GD (spectral)", "s--", "tab:red"),
        ("conditioning", "spectral", "rgd", 5.0, "RGD (spectral)", "^:", "tab:green"),
        (
            "conditioning",
            RANDOM_INIT,
            "scaledgd-damped",
            5.0,
            "ScaledGD(λ) (random)",
            "D-",
            "tab:purple",
        ),
        ("psd", "spectral", "scaledgd", 5.0, "PSD ScaledGD (c_psd=5)", "v-", "tab:cyan"),
        ("psd", "spectral", "gd", 5.0, "PSD GD (c_psd=5)", "P--", "tab:orange"),
    ]
    anchors = {}
    for exp, init, method, c, label, style, color in series:
        da = _get(results, exp, "iters_to_eps", init=init, method=method, c=c)
        if da is None:
            continue
        da = da.dropna("kappa", how="all").dropna("seed", how="all")
        med, bars = _median_range(da)
        kap = da["kappa"].values.astype(float)
        ax.errorbar(kap, med, yerr=bars, fmt=style, color=color, label=label, capsize=3, ms=6)
        anchors[(exp, method)] = (kap[0], med[0])
    kgrid = np.array([1.0, 100.0])
    if ("conditioning", "scaledgd") in anchors:
        k0, v0 = anchors[("conditioning", "scaledgd")]
        ax.plot(kgrid, [v0, v0], color="grey", lw=1, ls="-.", label="slope 0 guide")
    if ("conditioning", "gd") in anchors:
        k0, v0 = anchors[("conditioning", "gd")]
        ax.plot(kgrid, v0 * kgrid / k0, color="black", lw=1, ls="-.", label="slope 1 guide (∝ κ)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("condition number κ = σ1(X*)/σr(X*)")
    ax.set_ylabel("iterations to rel_err < eps")
    eps = _scalar(results, "conditioning", "eps")
    ax.set_title(f"F2: iterations to eps={_fmt_g(eps)} vs κ (c=5; median, min-max over seeds)")
    ax.grid(True, which="both", alpha=0.3)
    if anchors:
        ax.legend(fontsize=8)
    else:
        _no_data(ax, "conditioning / psd")
    return fig


def _phase_meta(results: Results) -> str:
    t_max = _scalar(results, "phase_transition", "t_max")
    tol = _scalar(results, "phase_transition", "tol")
    return f"T_max={_fmt_g(t_max)}, success: rel_err < tol={_fmt_g(tol)}"


def _fractions(results: Results, init: str, method: str, kappa) -> dict:
    """{r: success fraction over trials (c,)} for the ranks that were run."""
    da = _get(results, "phase_transition", "success", init=init, method=method, kappa=kappa)
    if da is None:
        return {}
    out = {}
    for r in da["r"].values:
        v = da.sel(r=r).dropna("seed", how="all")
        if v.sizes["seed"]:
            out[int(r)] = (v.mean("seed"), v.sizes["seed"])
    return out


def f3_phase_transition(results: Results) -> Figure:
    """F3: success fraction vs c = m/((n1+n2) r), one curve per r, panels kappa = 1 and 10 (top);
    the same vs m/((n1+n2) r^2) = c / r (bottom), where an r-linear law does not collapse."""
    kappas = [1, 10]
    fig, axes = plotting.subplots(2, len(kappas), width=5.0, height=3.75, squeeze=False)
    trials = None
    for j, kappa in enumerate(kappas):
        fr = _fractions(results, "spectral", "scaledgd", kappa)
        for i, (r, (f, n)) in enumerate(sorted(fr.items())):
            trials = n
            c = f["c"].values
            color = _RANK_COLORS[i % len(_RANK_COLORS)]
            axes[0, j].plot(c, f.values, "o-", color=color, label=f"r={r}")
            axes[1, j].plot(c / r, f.values, "o-", color=color, label=f"r={r}")
        axes[0, j].set_xlabel("c = m / ((n1+n2) r)")
        axes[1, j].set_xlabel("m / ((n1+n2) r²) = c / r")
        for ax in axes[:, j]:
            ax.set_ylabel("success fraction")
            ax.set_ylim(-0.03, 1.03)
            ax.axhline(0.5, color="grey", lw=0.8, ls=":")
            ax.set_title(f"κ = {kappa}")
            ax.grid(True, alpha=0.3)
            if fr:
                ax.legend(fontsize=8, loc="lower right")
            else:
                _no_data(ax, f"phase_transition κ={kappa}")
    fig.suptitle(
        f"F3: recovery phase transition, ScaledGD from spectral init ({_size(results, 'phase_transition')})\n"
        f"{_phase_meta(results)}; {_fmt_g(trials)} trials per point"
    )
    return fig


def f4_iters_vs_c(results: Results) -> Figure:
    """F4: median iterations to tol (successful trials only) vs c, per r; kappa panels. GD and
    random-init ScaledGD(lambda) at r = 4 are dashed. The blow-up near c50 is expected."""
    kappas = [1, 10]
    fig, axes = plotting.subplots(1, len(kappas), width=5.0, height=4.5, squeeze=False)
    axes = axes[0]
    extra = [
        ("spectral", "gd", "GD (spectral)", "s--"),
        (RANDOM_INIT, "scaledgd-damped", "ScaledGD(λ) (random)", "D-."),
    ]
    for ax, kappa in zip(axes, kappas):
        plotted = False
        it = _get(
            results, "phase_transition", "iters", init="spectral", method="scaledgd", kappa=kappa
        )
        if it is not None:
            for i, r in enumerate(it["r"].values):
                v = it.sel(r=r).dropna("seed", how="all")
                if v.sizes["seed"] == 0:
                    continue
                med = v.where(v >= 0).median("seed")
                ax.plot(
                    v["c"],
                    med,
                    "o-",
                    color=_RANK_COLORS[i % len(_RANK_COLORS)],
                    label=f"ScaledGD r={int(r)}",
                )
                plotted = True
        for init, method, label, style in extra:
            v = _get(results, "phase_transition", "iters", init=init, method=method, kappa=kappa)
            if v is None:
                continue
            for r in v["r"].values:
                w = v.sel(r=r).dropna("seed", how="all")
                if w.sizes["seed"]:
                    ax.plot(
                        w["c"],
                        w.where(w >= 0).median("seed"),
                        style,
                        color="black",
                        alpha=0.7,
                        label=f"{label} r={int(r)}",
                    )
                    plotted = True
        ax.set_yscale("log")
        ax.set_xlabel("c = m / ((n1+n2) r)")
        ax.set_ylabel("median iterations to tol (successful trials)")
        ax.set_title(f"κ = {kappa}")
        ax.grid(True, which="both", alpha=0.3)
        if plotted:
            ax.legend(fontsize=8)
        else:
            _no_data(ax, f"phase_transition κ={kappa}")
    fig.suptitle(
        f"F4: iterations to recovery vs oversampling ({_size(results, 'phase_transition')}); {_phase_meta(results)}"
    )
    return fig


def f5_init(results: Results) -> Figure:
    """F5: rel_err vs iteration by initialisation (B6, first seed): spectral ScaledGD, random
    ScaledGD (lambda = 0, diverges), random ScaledGD(lambda), random GD; one panel per kappa."""
    fig, axes = plotting.subplots(1, len(KAPPAS), width=4.4, height=4.3)
    series = [
        ("spectral", "scaledgd", "spectral, ScaledGD", "-", "tab:blue"),
        (RANDOM_INIT, "scaledgd", "random, ScaledGD λ=0", "-", "tab:red"),
        (RANDOM_INIT, "scaledgd-damped", "random, ScaledGD(λ=0.1σr)", "-", "tab:purple"),
        (RANDOM_INIT, "gd", "random, GD", "--", "tab:green"),
    ]
    for ax, kappa in zip(axes, KAPPAS):
        plotted = False
        for init, method, label, ls, color in series:
            da = _get(
                results, "conditioning", "rel_err", init=init, method=method, c=5.0, kappa=kappa
            )
            if da is None:
                continue
            v = _first_seed_trace(da)
            ax.semilogy(np.arange(v.size), v, ls=ls, color=color, lw=1.6, label=label)
            if not np.isfinite(v[-1]) or v[-1] > 1e3:
                ax.semilogy([v.size - 1], [min(v[-1], 1e12)], "x", color=color, ms=9)
            plotted = True
        ax.axhline(1e3, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("iteration t")
        ax.set_ylabel("relative error ‖X_t − X*‖_F / ‖X*‖_F")
        ax.set_title(f"κ = {kappa}")
        ax.grid(True, alpha=0.3)
        if plotted:
            ax.legend(fontsize=8)
        else:
            _no_data(ax, f"conditioning κ={kappa}")
    fig.suptitle(
        f"F5: initialisation ({_size(results, 'conditioning')}, c=5, α=1e-3, first seed); × = diverged "
        f"(rel_err > 1e3, dotted line); eps={_fmt_g(_scalar(results, 'conditioning', 'eps'))}"
    )
    return fig


def f6_cpu_time(results: Results) -> Figure:
    """F6 (report-only): CPU seconds of a run to eps vs kappa for ScaledGD, GD and RGD
    (spectral), median over seeds with min-max bars; solid c = 5, hollow c = 2.5."""
    fig, ax = plotting.subplots(width=7.5, height=5.5)
    styles = {
        "scaledgd": ("o", "tab:blue", "ScaledGD"),
        "gd": ("s", "tab:red", "GD"),
        "rgd": ("^", "tab:green", "RGD"),
    }
    plotted = False
    for c, fill, ls in ((5.0, True, "-"), (2.5, False, ":")):
        for method, (marker, color, name) in styles.items():
            cpu = _get(results, "conditioning", "cpu_s", init="spectral", method=method, c=c)
            it = _get(results, "conditioning", "iters_to_eps", init="spectral", method=method, c=c)
            if cpu is None or it is None:
                continue
            cpu = cpu.where(it >= 0).dropna("kappa", how="all").dropna("seed", how="all")
            med, bars = _median_range(cpu)
            ax.errorbar(
                cpu["kappa"].values.astype(float),
                med,
                yerr=bars,
                ls=ls,
                marker=marker,
                color=color,
                mfc=color if fill else "none",
                capsize=3,
                label=f"{name}, c={c:g}",
            )
            plotted = True
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("condition number κ")
    ax.set_ylabel("CPU time to rel_err < eps per run (s)")
    eps = _scalar(results, "conditioning", "eps")
    ax.set_title(
        f"F6: CPU time to eps={_fmt_g(eps)} ({_size(results, 'conditioning')}, float64, numpy)"
    )
    ax.grid(True, which="both", alpha=0.3)
    if plotted:
        ax.legend(fontsize=8)
    else:
        _no_data(ax, "conditioning")
    return fig


FIGURES: dict[str, Callable[[Results], Figure]] = {
    "f1_convergence": on_headline(f1_convergence),
    "f2_iters_vs_kappa": on_headline(f2_iters_vs_kappa),
    "f3_phase_transition": on_headline(f3_phase_transition),
    "f4_iters_vs_c": on_headline(f4_iters_vs_c),
    "f5_init": on_headline(f5_init),
    "f6_cpu_time": on_headline(f6_cpu_time),
}
