"""Report figures F1..F6 of the ``dln_sgd`` brief (§6), plus F2b (the peak position).

Each entry of `FIGURES` maps the study's aggregated results (experiment name -> `xarray.Dataset`,
dims as in `claims`) to a `matplotlib.figure.Figure` in the house style of `initlab.plotting`. A
panel whose data was not run says so instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from initlab import plotting

from .design import A8_GAMMAS, E1_INIT, ETA_B, with_variants
from .diffusion import aligned_diffusion, critical_noise, peak_fraction

__all__ = ["FIGURES"]

Results = Mapping[str, xr.Dataset]
MODE_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
GAMMA_COLORS = {
    "gamma-1": "tab:red",
    "gamma-2": "tab:orange",
    "gamma-3": "tab:green",
    "gamma-4": "tab:blue",
}
DEPTH_COLORS = {2: "tab:purple", 3: "tab:blue", 4: "tab:green"}


def _point(results: Results, experiment: str, **where) -> xr.Dataset | None:
    """The point's data with the seeds that ran, or None if it was not run."""
    if experiment not in results:
        return None
    try:
        ds = results[experiment]
        ds = ds.sel(with_variants(ds.dims, where))
    except KeyError:
        return None
    if "seed" in ds.dims and "diverged" in ds:
        ran = ds["diverged"].notnull()
        if set(ran.dims) - {"seed"}:
            ran = ran.any([d for d in ran.dims if d != "seed"])
        ds = ds.isel(seed=np.flatnonzero(ran.values))
        if ds.sizes["seed"] == 0:
            return None
    return ds


def _trim(ds: xr.Dataset) -> xr.Dataset:
    """Drop the time points beyond the point's own run (NaN padding of the merge)."""
    if "time" not in ds.dims:
        return ds
    return ds.sel(time=ds["time"] <= float(ds["t_end"]) + 1e-9)


def _log_y(ax) -> None:
    """Log y-axis without minor ticks (their layout dominates the drawing time)."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())


def _legend(ax, **kw) -> None:
    """A legend, if the axes has labelled artists."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes)


def _setting(ds: xr.Dataset, key: str):
    return json.loads(str(ds["run_params"].values))[key]


def _band(ax, t, values, color, ls="-", label=None, lw=1.5):
    """Seed median with a 10-90 % band; ``values`` (seed, time)."""
    lo, med, hi = np.nanpercentile(values, [10, 50, 90], axis=0)
    ax.plot(t, med, color=color, ls=ls, lw=lw, label=label)
    ax.fill_between(t, lo, hi, color=color, alpha=0.15, lw=0)


def f1_staircase(results: Results) -> Figure:
    """F1: loss (log) and m_k/s_k at L = 3, gamma = 4; SGD solid, GD dashed; median, 10-90 %."""
    fig, (ax_l, ax_m) = plotting.subplots(1, 2, width=5.0, height=3.8)
    sgd = _point(results, "staircase", depth=3, init="gamma-4")
    gd = _point(results, "gd", depth=3, init="gamma-4")
    if sgd is None:
        _no_data(ax_l, "staircase L=3 gamma-4")
        return fig
    for name, ds, ls in (("SGD", sgd, "-"), ("GD", gd, "--")):
        if ds is None:
            continue
        ds = _trim(ds)
        t = ds["time"].values
        _band(ax_l, t, ds["loss"].values, "black", ls, f"{name}")
        for k, sk in enumerate(ds["s"].values):
            _band(
                ax_m, t, ds["m"].isel(mode=k).values / sk, MODE_COLORS[k], ls, f"{name}, s={sk:g}"
            )
    _log_y(ax_l)
    ax_l.set_xlabel("t = eta x steps")
    ax_l.set_ylabel("loss 1/2 ||W_eff - T||_F^2")
    ax_m.set_xlabel("t = eta x steps")
    ax_m.set_ylabel("m_k(t) / s_k")
    ax_m.axhline(0.9, color="grey", lw=0.8, ls=":")
    t_max = float(gd["t_end"]) if gd is not None else 24.0
    for ax in (ax_l, ax_m):
        ax.set_xlim(0, t_max)
        _legend(ax, fontsize=7, loc="best")
    fig.suptitle(
        f"Saddle-to-saddle at L=3, gamma=4 ({sgd.sizes['seed']} seeds, eta={float(sgd['eta']):g}, "
        "B=1): SGD solid, GD dashed; median and 10-90 %",
        fontsize=9,
    )
    return fig


def f2_diffusion(results: Results) -> Figure:
    """F2: per L, m_k/s_k and D_k (log) over t for the first seed with t_peak and t_learn90
    marked; below, D_k against m_k/s_k for every seed with the aligned formula and u*."""
    fig, axes = plotting.subplots(2, 3, width=4.2, height=3.3)
    for col, depth in enumerate((2, 3, 4)):
        top, bottom = axes[0, col], axes[1, col]
        ds = _point(results, "staircase", depth=depth, init=E1_INIT[depth])
        if ds is None or bool(ds["D"].isnull().all()):
            _no_data(top, f"staircase L={depth}")
            _no_data(bottom, f"staircase L={depth}")
            continue
        ds = _trim(ds)
        first = ds.isel(seed=0)
        t, s, eta = ds["time"].values, ds["s"].values, float(ds["eta"])
        right = top.twinx()
        for k, sk in enumerate(s):
            c = MODE_COLORS[k]
            top.plot(t, first["m"].isel(mode=k) / sk, color=c, lw=1.4, label=f"m/s, s={sk:g}")
            right.plot(t, first["D"].isel(mode=k), color=c, lw=1.0, ls=":")
            tp, tl = float(first["t_peak"].isel(mode=k)), float(first["t_learn90"].isel(mode=k))
            if np.isfinite(tp):
                right.plot([tp], [float(first["D_peak"].isel(mode=k))], "v", color=c, ms=6)
            if np.isfinite(tl):
                top.plot([tl], [0.9], "o", color=c, mfc="white", ms=5)
            m_all = ds["m"].isel(mode=k).values / sk
            d_all = ds["D"].isel(mode=k).values
            for m_seed, d_seed in zip(m_all, d_all):
                bottom.plot(m_seed, d_seed, color=c, lw=0.5, alpha=0.35)
            grid = np.linspace(0.02, 0.995, 200)
            bottom.plot(
                grid,
                aligned_diffusion(grid * sk, sk, depth, eta=eta, batch=1, sigma=0.0),
                color="black",
                lw=0.9,
                ls="--",
            )
        _log_y(right)
        _log_y(bottom)
        learned = first["t_learn90"].values
        t_right = 1.4 * np.nanmax(learned) + 1.0 if np.isfinite(learned).any() else t[-1]
        top.set_xlim(0, min(t[-1], t_right))
        top.set_ylim(-0.05, 1.1)
        top.set_xlabel("t")
        top.set_ylabel("m_k / s_k (solid)")
        right.set_ylabel("D_k (dotted; v: t_peak)")
        right.set_ylim(1e-8, None)
        right.grid(False)
        top.set_title(
            f"L={depth}, {E1_INIT[depth]}, eta={eta:g}: seed 0 (o: t_learn90)", fontsize=9
        )
        bottom.axvline(peak_fraction(depth), color="grey", lw=1.0)
        bottom.set_xlim(0, 1.05)
        bottom.set_ylim(1e-6, None)
        bottom.set_xlabel("m_k / s_k")
        bottom.set_ylabel("D_k")
        bottom.set_title(
            f"all seeds; --: aligned D_k(u); |: u*/s={peak_fraction(depth):.3f}", fontsize=9
        )
        if col == 0:
            _legend(top, fontsize=7, loc="center right")
    return fig


def f2b_peak_position(results: Results) -> Figure:
    """F2b: m_k(t_peak)/s_k per depth and mode (seeds and their mean) against 2(L-1)/(3L-2)."""
    fig, ax = plotting.subplots(1, 1, width=5.5, height=3.8)
    grid = np.linspace(1.8, 4.4, 100)
    ax.plot(grid, 2 * (grid - 1) / (3 * grid - 2), color="black", lw=1.0, label="2(L-1)/(3L-2)")
    found = False
    for depth in (2, 3, 4):
        ds = _point(results, "staircase", depth=depth, init=E1_INIT[depth])
        if ds is None or bool(ds["m_peak"].isnull().all()):
            continue
        found = True
        for k, sk in enumerate(ds["s"].values):
            x = depth + (k - 1) * 0.12
            v = ds["m_peak"].isel(mode=k).values
            ax.plot(np.full(v.size, x), v, ".", color=MODE_COLORS[k], alpha=0.5, ms=4)
            ax.plot(
                [x],
                [np.nanmean(v)],
                "D",
                color=MODE_COLORS[k],
                mec="black",
                ms=6,
                label=f"s={sk:g} (seed mean)" if depth == 2 else None,
            )
    if not found:
        _no_data(ax, "staircase E1 points")
    ax.set_xticks([2, 3, 4])
    ax.set_xlabel("depth L (modes offset for legibility)")
    ax.set_ylabel("m_k(t_peak) / s_k")
    ax.set_title("Diffusion peak vs the inflection point (sigma=0)", fontsize=9)
    _legend(ax, fontsize=8)
    return fig


def f3_init_axis(results: Results) -> Figure:
    """F3: sequential index against gamma per depth; m_k(t)/s_k at L = 3 for gamma = 1..4."""
    fig, (ax_s, ax_m) = plotting.subplots(1, 2, width=5.0, height=3.8)
    ds_all = results.get("staircase")
    if ds_all is None:
        _no_data(ax_s, "staircase")
        return fig
    inits = sorted((str(i) for i in ds_all["init"].values), key=lambda i: float(i.split("-", 1)[1]))
    for depth in (2, 3, 4):
        xs, med, lo, hi = [], [], [], []
        for init in inits:
            ds = _point(results, "staircase", depth=depth, init=init)
            if ds is None:
                continue
            seq = np.where(np.isfinite(ds["seq_index"].values), ds["seq_index"].values, np.inf)
            xs.append(float(init.split("-", 1)[1]))
            q = np.percentile(seq, [25, 50, 75])
            lo.append(q[0]), med.append(q[1]), hi.append(q[2])
        if xs:
            med, lo, hi = (np.minimum(np.array(a), 1.5) for a in (med, lo, hi))
            ax_s.errorbar(
                xs,
                med,
                yerr=[med - lo, hi - med],
                marker="o",
                capsize=3,
                color=DEPTH_COLORS[depth],
                label=f"L={depth}",
            )
    ax_s.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax_s.set_xlabel("init scale gamma (entries ~ N(0, w^-gamma))")
    ax_s.set_ylabel("sequential index varsigma (median, IQR)")
    ax_s.set_title("Smaller init, more sequential learning", fontsize=9)
    _legend(ax_s, fontsize=8)
    for init in A8_GAMMAS:
        ds = _point(results, "staircase", depth=3, init=init)
        if ds is None:
            continue
        ds = _trim(ds)
        ds = ds.sel(time=ds["time"] <= 24.0 + 1e-9)
        for k, sk in enumerate(ds["s"].values):
            med = np.nanmedian(ds["m"].isel(mode=k).values / sk, axis=0)
            ax_m.plot(
                ds["time"].values,
                med,
                color=GAMMA_COLORS.get(init, "grey"),
                lw=1.3,
                ls=["-", "--", ":"][k % 3],
                label=f"{init}" if k == 0 else None,
            )
    ax_m.set_xlabel("t")
    ax_m.set_ylabel("seed-median m_k(t) / s_k (modes: solid, dashed, dotted)")
    ax_m.set_title("L=3: mode strengths for gamma = 1, 2, 3, 4", fontsize=9)
    _legend(ax_m, fontsize=8)
    return fig


def _hist_density(ax, samples, s, label, color):
    ax.hist(
        samples / s,
        bins=60,
        density=True,
        histtype="stepfilled",
        alpha=0.35,
        color=color,
        label=label,
    )


def f4_stationary(results: Results) -> Figure:
    """F4: stationary laws. Top: |m_k - s_k| at sigma = 0 over t in the final window, per L.
    Middle: the full network (E4) at sigma = 1; bottom: scalar SGD and EM (E5, E6); both against
    the exact 1-D density (solid) and the Boltzmann law N(s, tau_k) (dashed), in u/s."""
    fig, axes = plotting.subplots(3, 3, width=3.9, height=2.9)
    for col, depth in enumerate((2, 3, 4)):
        ax = axes[0, col]
        ds = _point(results, "staircase", depth=depth, init=E1_INIT[depth])
        if ds is None:
            _no_data(ax, f"staircase L={depth}")
            continue
        ds = _trim(ds)
        t_end, window = float(ds["t_end"]), float(_setting(ds, "late_window"))
        late = ds.sel(time=ds["time"] >= t_end - window - 1e-9)
        for k, sk in enumerate(ds["s"].values):
            dev = np.abs(late["m"].isel(mode=k).values.astype(float) - sk).ravel()
            dev = dev[np.isfinite(dev) & (dev > 0)]
            if dev.size:
                bins = np.logspace(np.log10(dev.min()) - 0.1, np.log10(dev.max()) + 0.1, 40)
                ax.hist(dev, bins=bins, histtype="step", color=MODE_COLORS[k], label=f"s={sk:g}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(f"|m_k - s_k|, t in [{t_end - window:.0f}, {t_end:.0f}]")
        ax.set_title(f"sigma=0, L={depth}: point mass at s_k", fontsize=9)
        _legend(ax, fontsize=7)
    e4 = _point(results, "stationary", init="gamma-4")
    e5 = {m: _point(results, "scalar", init="aligned-s", model=m) for m in ("sgd", "em")}
    for k in range(3):
        ax = axes[1, k]
        if e4 is None or k >= e4.sizes["mode"]:
            _no_data(ax, "stationary")
        else:
            sk = float(e4["s"].isel(mode=k))
            _hist_density(ax, e4["m"].isel(mode=k).values.ravel(), sk, "full DLN (E4)", "tab:gray")
            _overlay(
                ax,
                e4["u_over_s"].values,
                e4["exact_pdf"].isel(mode=k).values,
                sk,
                float(e4["tau"].isel(mode=k)),
            )
            ax.set_title(f"E4 full network, s={sk:g}, eta={float(e4['eta']):g}", fontsize=9)
        ax = axes[2, k]
        if e5["sgd"] is None:
            _no_data(ax, "scalar")
            continue
        base = e5["sgd"].sel(eta_B=ETA_B["base"])
        sk = float(base["s"].isel(mode=k))
        for model, color in (("sgd", "tab:blue"), ("em", "tab:orange")):
            if e5[model] is not None:
                u = e5[model].sel(eta_B=ETA_B["base"])["u"].isel(mode=k).values.ravel()
                _hist_density(
                    ax, u, sk, f"{'scalar SGD (E5)' if model == 'sgd' else 'SDE, EM (E6)'}", color
                )
        _overlay(
            ax,
            base["u_over_s"].values,
            base["exact_pdf"].isel(mode=k).values,
            sk,
            float(base["tau"].isel(mode=k)),
        )
        ax.set_title(
            f"E5/E6 1-D, s={sk:g}, (eta, B) = ({ETA_B['base'].replace('/', ', ')})", fontsize=9
        )
    for ax in axes[1:].ravel():
        ax.set_xlabel("u / s_k")
        _legend(ax, fontsize=6, loc="upper left")
    return fig


def _overlay(ax, grid, pdf, s, tau):
    """Exact density (solid) and N(s, tau) (dashed), as densities of u/s."""
    z = grid
    ax.plot(z, pdf * s, color="black", lw=1.2, label="exact 1-D density")
    ax.plot(
        z,
        s * np.exp(-0.5 * (z * s - s) ** 2 / tau) / np.sqrt(2 * np.pi * tau),
        color="black",
        lw=1.0,
        ls="--",
        label="N(s, tau_k)",
    )
    width = 5 * np.sqrt(tau) / s
    ax.set_xlim(max(z[0], 1 - width), min(z[-1], 1 + width))


def f5_temperature(results: Results) -> Figure:
    """F5: Var(u_k) against eta/B for E5 and E6, with tau_k (dashed, slope 1) and the exact-SDE
    variance (crosses), log-log."""
    fig, ax = plotting.subplots(1, 1, width=5.5, height=4.2)
    found = False
    for model, marker in (("sgd", "o"), ("em", "s")):
        ds = _point(results, "scalar", init="aligned-s", model=model)
        if ds is None:
            continue
        found = True
        temp = (ds["eta"] / ds["batch"]).values
        var = ds["u"].var(("seed", "snapshot", "chain")).transpose("eta_B", "mode").values
        for k, sk in enumerate(ds["s"].values):
            ax.loglog(
                temp,
                var[:, k],
                marker,
                color=MODE_COLORS[k],
                mfc="none" if model == "em" else None,
                ms=7,
                label=f"{'scalar SGD' if model == 'sgd' else 'EM'}, s={sk:g}",
            )
            if model == "sgd":
                grid = np.linspace(temp.min() * 0.8, temp.max() * 1.25, 10)
                tau = ds["tau"].isel(mode=k).values / temp  # tau_k per unit eta/B
                ax.loglog(grid, tau[0] * grid, "--", color=MODE_COLORS[k], lw=0.9)
                ax.loglog(temp, ds["exact_var"].isel(mode=k).values, "x", color="black", ms=8)
    if not found:
        _no_data(ax, "scalar")
    ax.set_xlabel("temperature eta / B")
    ax.set_ylabel("stationary Var(u_k)")
    ax.set_title("Var(u_k) vs eta/B; --: tau_k (slope 1), x: exact SDE", fontsize=9)
    _legend(ax, fontsize=7, ncol=2)
    return fig


def f6_label_noise(results: Results) -> Figure:
    """F6: transient peak and time-mean stationary D_k against sigma/s_k, normalised by
    (eta/B) L^2 s^(6-4/L), with the aligned predictions and sigma_crit(L = 3)."""
    fig, ax = plotting.subplots(1, 1, width=5.8, height=4.2)
    ds_all = results.get("label_noise")
    depth = 3
    if ds_all is None:
        _no_data(ax, "label_noise")
        return fig
    for sigma in ds_all["sigma"].values:
        ds = _point(results, "label_noise", init="gamma-4", sigma=float(sigma))
        if ds is None:
            continue
        depth = int(_setting(ds, "depth"))
        eta, s = float(ds["eta"]), ds["s"].values
        scale = eta * depth**2 * s ** (6 - 4 / depth)
        x = sigma / s
        peak = ds["D_transient_max"].values / scale
        late = ds["late_D_mean"].values / scale
        ax.plot(
            np.repeat(x[None], peak.shape[0], 0).ravel(),
            peak.ravel(),
            "^",
            color="tab:red",
            alpha=0.3,
            ms=4,
        )
        ax.plot(
            np.repeat(x[None], late.shape[0], 0).ravel(),
            late.ravel(),
            "o",
            color="tab:blue",
            alpha=0.3,
            ms=4,
        )
        ax.plot(x, np.nanmean(peak, 0), "^", color="tab:red", mec="black", ms=8)
        ax.plot(x, np.nanmean(late, 0), "o", color="tab:blue", mec="black", ms=8)
    z = peak_fraction(depth)
    grid = np.linspace(0.05, 0.7, 100)
    ax.plot(
        grid,
        z ** (4 - 4 / depth) * (2 * (1 - z) ** 2 + grid**2),
        color="tab:red",
        lw=1,
        label="aligned D(u*) (transient peak)",
    )
    ax.plot(grid, grid**2, color="tab:blue", lw=1, label="aligned D(s) (stationary)")
    _log_y(ax)
    ax.axvline(
        critical_noise(depth),
        color="grey",
        ls="--",
        lw=1,
        label=f"sigma_crit(L={depth}) = {critical_noise(depth):.2f}",
    )
    ax.set_xlabel("sigma / s_k")
    ax.set_ylabel("D_k / ((eta/B) L^2 s_k^(6-4/L))")
    ax.set_title("L=3 with label noise: transient max (^) vs late mean (o)", fontsize=9)
    _legend(ax, fontsize=7)
    return fig


FIGURES = {
    "f1_staircase": f1_staircase,
    "f2_diffusion": f2_diffusion,
    "f2b_peak_position": f2b_peak_position,
    "f3_init_axis": f3_init_axis,
    "f4_stationary": f4_stationary,
    "f5_temperature": f5_temperature,
    "f6_label_noise": f6_label_noise,
}
