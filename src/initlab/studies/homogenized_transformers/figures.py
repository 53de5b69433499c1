"""Report figures F1..F7 of the ``homogenized_transformers`` brief (§6).

Each entry of `FIGURES` maps the study's aggregated results (experiment name -> `xarray.Dataset`,
dims as in `claims`) to a `matplotlib.figure.Figure` with the house style of `initlab.plotting`.
A series whose data was not run is left out; a panel with nothing to show says so. Titles state
the problem sizes as run (from the data's coordinates).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.figure import Figure

from initlab import plotting

__all__ = ["FIGURES"]

Results = Mapping[str, xr.Dataset]
#: The homogenisation point drawn in F1 (its sweep axes other than ``method``).
A2 = {"init": "fixed", "n": 8, "d": 8, "beta": 1.0}
_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:olive"]


def _get(results: Results, experiment: str, variable: str, drop=(), **where) -> xr.DataArray | None:
    """``results[experiment][variable].sel(where)`` with all-NaN entries along ``drop`` removed,
    or None when absent or all NaN."""
    try:
        da = results[experiment][variable].sel(where)
    except (KeyError, ValueError):
        return None
    for dim in drop:
        if dim in da.dims:
            da = da.dropna(dim, how="all")
    return None if da.size == 0 or bool(da.isnull().all()) else da


def _param(results: Results, experiment: str, key: str, default="?"):
    """A parameter of ``experiment`` as run (the first run's ``run_params``)."""
    try:
        for text in results[experiment]["run_params"].values.ravel():
            if text:
                return json.loads(text).get(key, default)
    except KeyError:
        pass
    return default


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes)


def _ecdf(ax, values, **kw):
    v = np.sort(np.asarray(values))
    ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", **kw)


# --- F1 -----------------------------------------------------------------------------------------


def _schedules(results: Results):
    """[(label, method, schedule index)] of the homogenisation runs, particles first."""
    ds = results.get("homogenisation")
    out = []
    if ds is None:
        return out
    for method in ("particles", "sde"):
        if method not in ds["method"].values:
            continue
        try:
            heads = ds["heads"].sel({**A2, "method": method})
        except KeyError:
            continue
        for i in ds["schedule"].values:
            if method == "particles":
                h = float(heads.sel(schedule=i))
                if math.isnan(h):
                    continue
                eta = float(ds["eta"].sel({**A2, "method": method, "schedule": i}))
                layers = int(ds["layers"].sel({**A2, "method": method, "schedule": i}))
                label = f"H={int(h)}, η={eta:g}, L={layers}"
            else:
                dt = float(ds["sde_dt"].sel({**A2, "method": method, "schedule": i}))
                if math.isnan(dt):
                    continue
                m = int(ds["sde_draws"].sel({**A2, "method": method, "schedule": i}))
                label = f"limit SDE (dt={dt:g}, M={m})"
            out.append((label, method, i))
    return out


def f1_homogenisation(results: Results) -> Figure:
    """F1: ECDFs of rho_bar(T) for the A2 schedules and the limit SDE; mean rho_bar(t) and
    lambda_max(G)/n(t) +- 2 SE against t."""
    fig, axes = plotting.subplots(1, 3, width=4.3, height=3.6)
    runs = _schedules(results)
    if not runs:
        for ax in axes:
            _no_data(ax, "homogenisation")
        return fig
    ds = results["homogenisation"]
    t_end = float(ds["t"].max())
    for k, (label, method, i) in enumerate(runs):
        style = dict(color="black", lw=2.2, ls="--") if method == "sde" else dict(color=_COLORS[k], lw=1.4)
        where = {**A2, "method": method, "schedule": i}
        final = _get(results, "homogenisation", "rho_bar", drop=("seed",), t=t_end, **where)
        if final is not None:
            _ecdf(axes[0], final.values, label=label, **style)
        for ax, var in ((axes[1], "rho_bar"), (axes[2], "lam_max_over_n")):
            da = _get(results, "homogenisation", var, drop=("seed", "t"), **where)
            if da is None:
                continue
            mean, se = da.mean("seed"), da.std("seed", ddof=1) / math.sqrt(da.sizes["seed"])
            ax.plot(da["t"], mean, label=label, **style)
            ax.fill_between(da["t"], mean - 2 * se, mean + 2 * se, color=style["color"], alpha=0.12)
    n = int(ds["rho_bar"].sizes.get("seed", 0))
    axes[0].set_xlabel(f"ρ̄(T = {t_end:g})")
    axes[0].set_ylabel("ECDF over weight seeds")
    axes[0].set_title(f"law of ρ̄(T), {n} seeds / paths")
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].set_ylabel("mean ρ̄(t) ± 2 SE")
    axes[2].set_ylabel("mean λ_max(G)/n ± 2 SE")
    for ax in axes[1:]:
        ax.set_xlabel("t = L η² H")
    axes[1].set_title("equal Lη²H: one curve")
    axes[2].set_title("largest Gram eigenvalue / n")
    fig.suptitle("Heads homogenise with depth: particles at equal Lη²H and the limit SDE (A2, A3)")
    return fig


# --- F2 -----------------------------------------------------------------------------------------

F2_PANELS = [
    ("orthonormal", 0.0),
    ("orthonormal", 1.0),
    ("orthonormal", 3.0),
    ("simplex", 0.0),
    ("simplex", 3.0),
    ("equiangular-0.3", 0.0),
    ("equiangular-0.3", 3.0),
    ("uniform", 0.0),
    ("uniform", 3.0),
]


def f2_simplex_ode(results: Results, n: int = 16, d: int = 64) -> Figure:
    """F2: mean rho_bar(t) +- 2 SE of the particles against the simplex ODE, per (init, beta)."""
    fig, axes = plotting.subplots(3, 3, width=3.6, height=2.7, sharey=True)
    for ax, (init, beta) in zip(axes.ravel(), F2_PANELS):
        where = dict(init=init, n=n, d=d, beta=beta)
        mean = _get(results, "collapse", "rho_bar", drop=("t",), **where)
        if mean is None:
            _no_data(ax, f"{init}, β={beta:g}")
            ax.set_title(f"{init}, β = {beta:g}", fontsize=9)
            continue
        se = _get(results, "collapse", "rho_bar_se", drop=("t",), **where)
        ode = _get(results, "collapse", "rho_ode", drop=("t",), **where)
        t = mean["t"].values
        ax.fill_between(t, mean - 2 * se, mean + 2 * se, color="tab:blue", alpha=0.25, label="particles ± 2 SE")
        ax.plot(t, mean, color="tab:blue", lw=1.4)
        if ode is not None:
            ax.plot(ode["t"], ode, color="black", ls="--", lw=1.2, label="simplex ODE")
        th = _get(results, "collapse", "t_half", **where)
        if th is not None and np.isfinite(float(th)):
            ax.axvline(float(th), color="tab:blue", lw=0.8, ls=":")
        ax.axhline(0.5, color="grey", lw=0.6)
        ax.set_title(f"{init}, β = {beta:g}", fontsize=9)
        ax.set_xlabel("t = L η² H")
    for ax in axes[:, 0]:
        ax.set_ylabel("mean ρ̄(t)")
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(fontsize=7, loc="upper left")
    eta = _param(results, "collapse", "eta")
    fig.suptitle(f"Simplex (mean) ODE against the particles, n={n}, d={d}, η={eta} (A4, A9); dotted: T½")
    return fig


# --- F3 -----------------------------------------------------------------------------------------


def _t_half_series(results, axis, values, **where):
    xs, sim, ode = [], [], []
    for v in values:
        s = _get(results, "collapse", "t_half", init="orthonormal", **{axis: v}, **where)
        if s is None:
            continue
        o = _get(results, "collapse", "t_half_ode", init="orthonormal", **{axis: v}, **where)
        xs.append(int(v))
        sim.append(float(s))
        ode.append(float(o) if o is not None else np.nan)
    return xs, sim, ode


def f3_collapse_time(results: Results, d: int = 64) -> Figure:
    """F3: T½ against n (log-x) for beta in {0, 10}, with the ODE and (d/(d-2)) ln(n+1); side
    panel (the brief's inset): T½ against d at n = 16, beta = 10."""
    fig, axes = plotting.subplots(1, 2, width=4.6, height=4.0, gridspec_kw={"width_ratios": [1.6, 1]})
    ds = results.get("collapse")
    if ds is None:
        for ax in axes:
            _no_data(ax, "collapse")
        return fig
    ax = axes[0]
    for k, beta in enumerate((0.0, 10.0)):
        ns, sim, ode = _t_half_series(results, "n", ds["n"].values, d=d, beta=beta)
        if ns:
            ax.plot(ns, sim, "o", color=_COLORS[k], ms=7, label=f"particles, β={beta:g}")
            ax.plot(ns, ode, "-", color=_COLORS[k], lw=1.2, label=f"simplex ODE, β={beta:g}")
    grid = np.geomspace(max(2, float(ds["n"].min())), float(ds["n"].max()), 50)
    ax.plot(grid, d / (d - 2) * np.log(grid + 1), ":", color="grey", label=f"(d/(d−2)) ln(n+1)")
    ax.set_xscale("log", base=2)
    ax.set_xticks([int(n) for n in ds["n"].values], [str(int(n)) for n in ds["n"].values])
    ax.set_xlabel("context length n")
    ax.set_ylabel("collapse time T½ (seed-mean ρ̄ ≥ 1/2)")
    ax.set_title(f"T½ against n, d={d}")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    dims, sim, ode = _t_half_series(results, "d", ds["d"].values, n=16, beta=10.0)
    if dims:
        ax.plot(dims, sim, "o", color=_COLORS[1], ms=7, label="particles")
        ax.plot(dims, ode, "-", color=_COLORS[1], lw=1.2, label="simplex ODE")
        ax.set_xscale("log", base=2)
        ax.set_xticks(dims, [str(v) for v in dims])
        ax.legend(fontsize=8)
    else:
        _no_data(ax, "n=16, β=10")
    ax.set_xlabel("dimension d")
    ax.set_title("T½ against d, n=16, β=10")
    eta = _param(results, "collapse", "eta")
    fig.suptitle(f"Longer context and lower temperature delay collapse (A5, orthonormal, η={eta})")
    return fig


# --- F4 -----------------------------------------------------------------------------------------


def f4_deterministic(results: Results) -> Figure:
    """F4: sd of rho_bar(T) against eta (log-log, slope-1/2 guide); mean against eta with the ODE."""
    fig, axes = plotting.subplots(1, 2, width=4.6, height=3.6)
    da = _get(results, "deterministic", "final_rho_bar", drop=("seed",), init="fixed")
    if da is None:
        for ax in axes:
            _no_data(ax, "deterministic")
        return fig
    etas = da["eta"].values
    sd = da.std("seed", ddof=1).values
    mean = da.mean("seed").values
    se = sd / np.sqrt(da.sizes["seed"])
    axes[0].loglog(etas, sd, "o-", color="tab:blue", label="particles")
    mid = len(etas) // 2
    axes[0].loglog(etas, sd[mid] * np.sqrt(etas / etas[mid]), ":", color="grey", label="slope ½")
    axes[0].set_xlabel("η")
    axes[0].set_ylabel("sd over seeds of ρ̄(T)")
    axes[0].legend(fontsize=8)
    axes[0].set_title("fluctuations ∝ √η")
    axes[1].errorbar(etas, mean, yerr=2 * se, fmt="o-", color="tab:blue", capsize=3, label="particles ± 2 SE")
    ode = _get(results, "deterministic", "ode_final_rho_bar", init="fixed")
    if ode is not None:
        axes[1].axhline(float(ode), color="black", ls="--", label="deterministic ODE")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("η")
    axes[1].set_ylabel("mean ρ̄(T)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("mean → ODE")
    fig.suptitle(f"Deterministic regime μ=1, LηHμ=1, {da.sizes['seed']} seeds (A6)")
    return fig


# --- F5 -----------------------------------------------------------------------------------------


def f5_common_noise(results: Results) -> Figure:
    """F5: sd over seeds of rho_bar(T) against n, shared weights vs the per-token control."""
    fig, ax = plotting.subplots(1, 1, width=5.4, height=4.0)
    ds = results.get("common_noise")
    if ds is None:
        _no_data(ax, "common_noise")
        return fig
    init = str(ds["init"].values[0])
    anchor = None
    for k, weights in enumerate(("shared", "per-token")):
        ns, sds = [], []
        for n in ds["n"].values:
            da = _get(results, "common_noise", "final_rho_bar", drop=("seed",), init=init, weights=weights, n=n)
            if da is not None:
                ns.append(int(n))
                sds.append(float(da.std("seed", ddof=1)))
        if ns:
            label = "shared weights (the model)" if weights == "shared" else "per-token weights (control)"
            ax.loglog(ns, sds, "o-", color=_COLORS[k], label=label)
            if weights == "per-token":
                anchor = (ns[0], sds[0])
    if anchor is not None:
        grid = np.geomspace(anchor[0], float(ds["n"].max()), 20)
        ax.loglog(grid, anchor[1] * np.sqrt(anchor[0] / grid), ":", color="grey", label="n^(−1/2)")
    ax.set_xticks([int(n) for n in ds["n"].values], [str(int(n)) for n in ds["n"].values])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("context length n")
    ax.set_ylabel("sd over weight seeds of ρ̄(T)")
    ax.legend(fontsize=8)
    d, beta, t_end = (_param(results, "common_noise", k) for k in ("d", "beta", "t_end"))
    ax.set_title(f"Common noise survives n → ∞ (A7)\n{init}, d={d}, β={beta}, T={t_end}", fontsize=9)
    return fig


# --- F6 -----------------------------------------------------------------------------------------


def f6_antipodal(results: Results, n: int = 64, d: int = 4) -> Figure:
    """F6: histogram of the final rho_ij at d=4, n=64 (beta = 0 and 10), marking rho_bar, mean
    rho^2 and lambda_max/n."""
    fig, axes = plotting.subplots(1, 2, width=4.6, height=3.6, sharey=True)
    for ax, beta in zip(axes, (0.0, 10.0)):
        hist = _get(results, "phase_diagram", "rho_hist", init="uniform", n=n, d=d, beta=beta)
        if hist is None:
            _no_data(ax, f"phase_diagram n={n} d={d} β={beta:g}")
            continue
        centres = hist["hist_bin"].values
        width = centres[1] - centres[0]
        density = hist.values / (hist.values.sum() * width)
        ax.bar(centres, density, width=width, color="tab:blue", alpha=0.6)
        marks = (
            ("final_rho_bar", "ρ̄", "tab:red", "-"),
            ("final_rho2", "mean ρ²", "tab:green", "--"),
            ("final_lam_max_over_n", "λ_max/n", "black", ":"),
        )
        for var, label, color, ls in marks:
            v = _get(results, "phase_diagram", var, drop=("seed",), init="uniform", n=n, d=d, beta=beta)
            if v is not None:
                ax.axvline(float(v.mean()), color=color, ls=ls, lw=1.5, label=f"{label} = {float(v.mean()):.2f}")
        trace = _get(results, "phase_diagram", "rho_bar", drop=("t",), init="uniform", n=n, d=d, beta=beta)
        ax.set_title(f"β = {beta:g}, T = {float(trace['t'].max()) if trace is not None else float('nan'):g}")
        ax.set_xlabel("final pair overlap ρ_ij")
        ax.legend(fontsize=7, loc="upper center")
    axes[0].set_ylabel("density over pairs and seeds")
    fig.suptitle(f"Antipodal clusters at d={d}, n={n}: invisible to ρ̄, seen by λ_max/n (A8)")
    return fig


# --- F7 -----------------------------------------------------------------------------------------


def _heatmap(ax, values, xs, ys, title, fmt="{:.2f}"):
    im = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.grid(False)
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(values[i, j]):
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] < 0.6 else "black")  # fmt: skip
    ax.set_title(title, fontsize=9)
    return im


def f7_phase_diagram(results: Results, horizon: float = 4.0) -> Figure:
    """F7: rho_bar and lambda_max/n at T over (d, beta) for each n (A5b), and T½ over (n, beta)
    at d = 64 from the collapse runs (A5)."""
    pd_ = results.get("phase_diagram")
    ns = [] if pd_ is None else [int(n) for n in pd_["n"].values]
    rows = max(1, len(ns))
    fig, axes = plotting.subplots(rows, 3, width=3.9, height=3.3, squeeze=False)
    if pd_ is None:
        _no_data(axes[0, 0], "phase_diagram")
    for r, n in enumerate(ns):
        ds_ = [int(d) for d in pd_["d"].values]
        betas = [float(b) for b in pd_["beta"].values]
        for c, (var, name) in enumerate((("rho_bar", "ρ̄"), ("lam_max_over_n", "λ_max/n"))):
            grid = np.full((len(ds_), len(betas)), np.nan)
            t_used = None
            for i, d in enumerate(ds_):
                da = _get(results, "phase_diagram", var, drop=("t",), init="uniform", n=n, d=d)
                if da is None:
                    continue
                t_used = min(horizon, float(da["t"].max()))
                grid[i] = da.sel(t=t_used, method="nearest").sel(beta=betas).values
            im = _heatmap(axes[r, c], grid, betas, ds_, f"{name}(T={t_used if t_used is not None else horizon:g}), n={n}")
            axes[r, c].set_xlabel("β")
            axes[r, c].set_ylabel("d")
        fig.colorbar(im, ax=axes[r, 1], shrink=0.8)
    ax = axes[0, 2]
    col = results.get("collapse")
    if col is None:
        _no_data(ax, "collapse")
    else:
        ns_c = [int(n) for n in col["n"].values]
        betas_c = [float(b) for b in col["beta"].values]
        grid = np.full((len(ns_c), len(betas_c)), np.nan)
        for i, n in enumerate(ns_c):
            for j, b in enumerate(betas_c):
                v = _get(results, "collapse", "t_half", init="orthonormal", n=n, d=64, beta=b)
                if v is not None:
                    grid[i, j] = float(v)
        vmax = np.nanmax(grid) if np.isfinite(grid).any() else 1.0
        ax.imshow(grid, origin="lower", aspect="auto", cmap="magma_r", vmin=0, vmax=vmax)
        ax.set_xticks(range(len(betas_c)), [f"{b:g}" for b in betas_c])
        ax.set_yticks(range(len(ns_c)), [str(n) for n in ns_c])
        ax.grid(False)
        for i in range(len(ns_c)):
            for j in range(len(betas_c)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if grid[i, j] > 0.5 * vmax else "black")  # fmt: skip
        ax.set_xlabel("β")
        ax.set_ylabel("n")
        ax.set_title("T½ (orthonormal, d=64); blank: not run", fontsize=9)
    for r in range(1, rows):
        axes[r, 2].set_visible(False)
    eta = _param(results, "phase_diagram", "eta")
    fig.suptitle(f"Collapse phase diagram over (d, n, β): uniform tokens, η={eta} (A5b); T½ from A5")
    return fig


FIGURES = {
    "f1_homogenisation": f1_homogenisation,
    "f2_simplex_ode": f2_simplex_ode,
    "f3_collapse_time": f3_collapse_time,
    "f4_deterministic": f4_deterministic,
    "f5_common_noise": f5_common_noise,
    "f6_antipodal": f6_antipodal,
    "f7_phase_diagram": f7_phase_diagram,
}
