"""Report figures F1-F6 of the ``quadratic_escape`` brief (§6).

Each entry of `FIGURES` maps the study's aggregated results (experiment name -> `xarray.Dataset`,
layout as in `initlab.studies.quadratic_escape.claims`) to a `matplotlib.figure.Figure` in the
house style of `initlab.plotting`. A panel whose experiment was not run says so instead of
failing.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from initlab import plotting

from .hessian import POINTS, classify, predicted_counts

__all__ = ["FIGURES"]

Results = Mapping[str, xr.Dataset]
_ZERO_TOL = 1e-7  # as claims.ZERO_TOL
_P_COLORS = {2: "tab:blue", 4: "tab:orange", 8: "tab:green", 16: "tab:red"}
_SEED_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink"]


def _cells(results: Results, experiment: str):
    """``(axes, data, params)`` of every cell of ``experiment`` that was run (none if absent)."""
    ds = results.get(experiment)
    if ds is None:
        return []
    axes = json.loads(ds.attrs["axes"])
    out = []
    for values in itertools.product(*(ds[a].values for a in axes)):
        where = {a: v.item() if hasattr(v, "item") else v for a, v in zip(axes, values)}
        cell = ds.sel(where)
        if str(cell["run_params"].values) == "":
            continue
        params = json.loads(str(cell["run_params"].values))
        for dim in ("i", "j"):
            if dim in cell.dims and "p" in params:
                cell = cell.isel({dim: slice(0, int(params["p"]))})
        out.append((where, cell, params))
    return out


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what}", ha="center", va="center", transform=ax.transAxes)


def _legend(ax, **kw) -> None:
    """A legend, only when something was labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _p_color(p) -> str:
    return _P_COLORS.get(int(p), "tab:gray")


def _trim(da: xr.DataArray) -> xr.DataArray:
    return da.dropna("time", how="all")


def _escape_cell(results: Results, experiment: str):
    """The first cell of an SGD experiment whose ODE escaped (the E1 comparison run)."""
    for where, cell, params in _cells(results, experiment):
        if bool(np.isfinite(cell["t_half"].sel(source="ode-empirical")).all()):
            return where, cell, params
    return None


# --- F1 -----------------------------------------------------------------------------------------


def f1_sgd_vs_ode(results: Results) -> Figure:
    """F1: eps_g(t) of SGD seeds (thin) and their ODEs from the exact initial overlaps (dashed),
    with the plateau levels; right, tr Q / p of SGD against q* with and without gamma^2."""
    fig, (ax, ax_q) = plotting.subplots(1, 2, width=5.2, height=4.0)
    found = _escape_cell(results, "sgd_vs_ode")
    if found is None:
        _no_data(ax, "sgd_vs_ode")
    else:
        where, cell, params = found
        for k, s in enumerate(cell["seed"].values):
            color = _SEED_COLORS[k % len(_SEED_COLORS)]
            sgd = _trim(cell["eps"].sel(source="sgd", seed=s))
            ode = _trim(cell["eps"].sel(source="ode-empirical", seed=s))
            ax.semilogy(sgd["time"], sgd, color=color, lw=0.8, label=f"SGD seed {s}")
            ax.semilogy(ode["time"], ode, color=color, lw=1.6, ls="--", label=f"ODE seed {s}")
        ax.axhline(
            float(cell["plateau_eps_gf"]),
            color="grey",
            ls=":",
            lw=1,
            label="gradient-flow plateau 1/(p+2)+1/p*",
        )
        ax.axhline(
            float(cell["plateau_eps"]),
            color="black",
            ls="-.",
            lw=1,
            label="plateau with γ² term ε(q*)",
        )
        ax.axhline(float(cell["threshold"]), color="grey", lw=0.6)
        ax.set_title(f"N={where['N']}, p={where['p']}, p*={params['pstar']}, γ={where['gamma']:g}")
        _legend(ax, fontsize=7, ncol=2, loc="lower left")
        # Inset: the plateau, where the two fixed-point levels are told apart.
        inset = ax.inset_axes([0.6, 0.62, 0.38, 0.33])
        for k, s in enumerate(cell["seed"].values):
            color = _SEED_COLORS[k % len(_SEED_COLORS)]
            for src, lw, ls in (("sgd", 0.7, "-"), ("ode-empirical", 1.4, "--")):
                eps = _trim(cell["eps"].sel(source=src, seed=s))
                inset.plot(eps["time"], eps, color=color, lw=lw, ls=ls)
        for name, ls, color in (("plateau_eps_gf", ":", "grey"), ("plateau_eps", "-.", "black")):
            inset.axhline(float(cell[name]), color=color, ls=ls, lw=1)
        t0 = 1.0 / float(where["gamma"])
        t1 = 0.5 * float(cell["t_half"].sel(source="ode-empirical").min())
        window = cell["eps"].sel(source=["sgd", "ode-empirical"], time=slice(t0, t1))
        levels = [float(cell["plateau_eps_gf"]), float(cell["plateau_eps"])]
        lo = min(levels + [float(window.min())])
        hi = max(levels + [float(window.max())])
        inset.set_xlim(t0, t1)
        inset.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        inset.tick_params(labelsize=6)
        inset.set_title("plateau window [1/γ, t_half/2]", fontsize=6.5)
    ax.set_xlabel("t = steps / N")
    ax.set_ylabel("population error ε_g")
    plotted = False
    for where, cell, params in _cells(results, "sgd_vs_ode"):
        color = _p_color(where["p"])
        trq = _trim(cell["trq"].sel(source="sgd"))
        for s in trq["seed"].values:
            ax_q.plot(trq["time"], trq.sel(seed=s), color=color, lw=0.7, alpha=0.8)
        ax_q.axhline(
            float(cell["qstar"]),
            color=color,
            ls="-.",
            lw=1.2,
            label=f"p={where['p']}: q*(γ²) = {float(cell['qstar']):.3f}",
        )
        ax_q.axhline(
            float(cell["qstar_gf"]),
            color=color,
            ls=":",
            lw=1.2,
            label=f"p={where['p']}: q*(GF) = {float(cell['qstar_gf']):.3f}",
        )
        plotted = True
    if plotted:
        ax_q.set_xlim(0, 25)
        _legend(ax_q, fontsize=7)
    else:
        _no_data(ax_q, "sgd_vs_ode")
    ax_q.set_xlabel("t")
    ax_q.set_ylabel("tr Q / p of SGD (thin, one line per seed)")
    ax_q.set_title("plateau norm: SGD follows the γ² fixed point")
    fig.suptitle("F1: one-pass SGD against the overlap ODE started from each seed's own overlaps")
    return fig


# --- F2 -----------------------------------------------------------------------------------------


def f2_escape_time(results: Results) -> Figure:
    """F2: draw-mean t_half against ln N per p with fitted lines (second-order: filled; gradient
    flow: open); right, t_half against p at the smallest and largest N."""
    fig, (ax, ax_p) = plotting.subplots(1, 2, width=5.2, height=4.2)
    runs = _cells(results, "escape_time")
    if not runs:
        _no_data(ax, "escape_time")
        _no_data(ax_p, "escape_time")
        return fig
    by_n = {}
    for where, cell, params in runs:
        p, second = int(where["p"]), where["ode"] == "second-order"
        x = np.log(cell["N"].values.astype(float))
        th = cell["t_half"]
        mean = th.mean("seed").values
        color = _p_color(p)
        for s in th["seed"].values:
            ax.plot(x, th.sel(seed=s), ".", color=color, ms=2, alpha=0.4)
        pred = 0.5 / float(cell["rate"])
        if np.all(np.isfinite(mean)):
            slope, icpt = np.polyfit(x, mean, 1)
            ax.plot(x, icpt + slope * x, "-" if second else "--", color=color, lw=1)
            label = f"p={p}{'' if second else ' GF'}: slope {slope:.2f} (pred. {pred:.2f})"
        else:
            label = f"p={p}{'' if second else ' GF'}: not all escaped"
        ax.plot(
            x,
            mean,
            "o" if second else "s",
            color=color,
            mfc=color if second else "none",
            label=label,
        )
        if second:
            for N, v in zip(cell["N"].values, mean):
                by_n.setdefault(int(N), []).append((p, v))
    ax.set_xlabel("ln N")
    ax.set_ylabel("t_half (first t with ε_g below half the GF plateau)")
    ax.set_title("escape time: slope 1/(2λ), set by the teacher")
    _legend(ax, fontsize=7)
    if by_n:
        for N, style in ((min(by_n), "o-"), (max(by_n), "s-")):
            rows = sorted(by_n[N])
            ax_p.plot([r[0] for r in rows], [r[1] for r in rows], style, label=f"N = {N:.0e}")
            if len(rows) > 1:
                drop = 100 * (1 - rows[-1][1] / rows[0][1])
                ax_p.annotate(
                    f"p {rows[0][0]}→{rows[-1][0]}: −{drop:.0f} %",
                    (rows[-1][0], rows[-1][1]),
                    textcoords="offset points",
                    xytext=(-70, 8),
                    fontsize=8,
                )
        ax_p.set_xscale("log", base=2)
        _legend(ax_p, fontsize=8)
    else:
        _no_data(ax_p, "second-order runs")
    ax_p.set_xlabel("student width p")
    ax_p.set_ylabel("draw-mean t_half")
    ax_p.set_title("overparameterization: a modest, prefactor-only speed-up")
    gamma = runs[0][2].get("gamma")
    fig.suptitle(
        f"F2: escape time of the overlap ODE, Q0 = I, M0 = G/√N, γ={gamma}, p*={runs[0][2].get('pstar')}"
    )
    return fig


# --- F3 -----------------------------------------------------------------------------------------


def f3_implicit_bias(results: Results) -> Figure:
    """F3: singular values of M(t) against sqrt(b/a), and the drift ||P(M(t)) - P(M0)||_F of the
    polar factor on a log scale, for the ODE (isotropic, empirical) and SGD."""
    fig, (ax_s, ax_d) = plotting.subplots(1, 2, width=5.2, height=4.0)
    floor = 1e-16
    iso = [
        (w, c, p)
        for w, c, p in _cells(results, "init_axis")
        if str(w["init"]) in ("isotropic", "isotropic-q1")
    ]
    found = _escape_cell(results, "sgd_vs_ode")
    level = None
    if iso:
        where, cell, params = iso[0]
        sv = _trim(cell["sv"].sel(ode="second-order").isel(seed=0))
        for n in sv["n"].values:
            ax_s.plot(
                sv["time"],
                sv.sel(n=n),
                color="tab:blue",
                lw=1.6,
                label="ODE isotropic Q0" if n == 0 else None,
            )
        level = float(
            np.sqrt(cell["b"].sel(ode="second-order") / cell["a"].sel(ode="second-order"))
        )
        for variant, ls in (("second-order", "-"), ("gradient-flow", "--")):
            if variant in cell["ode"].values:
                dev = _trim(cell["polar_dev"].sel(ode=variant))
                for s in dev["seed"].values:
                    ax_d.semilogy(
                        dev["time"],
                        np.maximum(dev.sel(seed=s), floor),
                        ls=ls,
                        color="tab:blue",
                        lw=1,
                        label=f"ODE isotropic ({variant})" if s == dev["seed"].values[0] else None,
                    )
    if found is not None:
        where, cell, params = found
        for src, color, name in (
            ("sgd", "tab:red", "SGD"),
            ("ode-empirical", "tab:green", "ODE empirical Q0"),
            ("ode-isotropic", "tab:purple", "ODE Q0 = q0 I, same M0"),
        ):
            sv = _trim(cell["sv"].sel(source=src).isel(seed=0))
            if src != "ode-isotropic":
                for n in sv["n"].values:
                    ax_s.plot(
                        sv["time"],
                        sv.sel(n=n),
                        color=color,
                        lw=1,
                        ls="-" if src == "sgd" else "--",
                        label=f"{name} (seed {int(sv['seed'])})" if n == 0 else None,
                    )
            dev = _trim(cell["polar_dev"].sel(source=src))
            for s in dev["seed"].values:
                ax_d.semilogy(
                    dev["time"],
                    np.maximum(dev.sel(seed=s), floor),
                    color=color,
                    lw=0.9,
                    label=f"{name}, N={where['N']}" if s == dev["seed"].values[0] else None,
                )
    if level is not None:
        ax_s.axhline(level, color="black", ls=":", lw=1, label=f"√(b/a) = {level:.3f}")
    if not iso and found is None:
        _no_data(ax_s, "init_axis, sgd_vs_ode")
        _no_data(ax_d, "init_axis, sgd_vs_ode")
    ax_s.set_xlabel("t")
    ax_s.set_ylabel("singular values of M(t)")
    ax_s.set_title("M grows to √(b/a) × (orthonormal)")
    _legend(ax_s, fontsize=7)
    ax_d.set_xlabel("t")
    ax_d.set_ylabel("‖P(M(t)) − P(M0)‖_F  (floored at 1e-16)")
    ax_d.set_title("drift of the conserved polar factor")
    _legend(ax_d, fontsize=7)
    fig.suptitle(
        "F3: implicit bias, the polar factor of M is conserved by the ODE with isotropic Q0"
    )
    return fig


# --- F4 -----------------------------------------------------------------------------------------


def f4_selection(results: Results) -> Figure:
    """F4: SGD's deviation from the closest solution against gamma (seeds and mean) with the
    random-pairing baseline; right, the ODE deviation against the anisotropy delta of Q0."""
    fig, (ax, ax_d) = plotting.subplots(1, 2, width=4.8, height=4.0)
    runs = _cells(results, "implicit_bias")
    if runs:
        gammas, means = [], []
        for where, cell, params in sorted(runs, key=lambda r: r[0]["gamma"]):
            dev = (
                _trim(cell["polar_dev"].sel(source="sgd")).isel(time=-1) / np.sqrt(cell.sizes["n"])
            ).values
            g = float(where["gamma"])
            ax.plot(np.full(dev.size, g), dev, "o", color="tab:red", mfc="none", alpha=0.7)
            gammas.append(g)
            means.append(np.nanmean(dev))
        ax.plot(gammas, means, "s-", color="black", label="mean over seeds")
        base = float(runs[0][1]["random_dev_mean"])
        ax.axhline(base, color="grey", ls="--", label=f"random solution (mean {base:.2f})")
        ax.axhline(base / 2, color="grey", ls=":", label="half the random baseline")
        ax.set_xscale("log")
        ax.set_xticks(gammas, [f"{g:g}" for g in gammas])
        ax.minorticks_off()
        ax.set_title(
            f"SGD, N={runs[0][0]['N']}, p={runs[0][0]['p']}, {len(runs[0][1]['seed'])} seeds"
        )
        _legend(ax, fontsize=7)
    else:
        _no_data(ax, "implicit_bias")
    ax.set_xlabel("learning rate γ")
    ax.set_ylabel("‖P(M_end) − P(M0)‖_F / √p*")
    aniso = [
        (w, c, p)
        for w, c, p in _cells(results, "init_axis")
        if str(w["init"]).startswith("anisotropic")
    ]
    if aniso:
        deltas, means = [], []
        for where, cell, params in sorted(aniso, key=lambda r: float(r[1]["delta"])):
            d = float(cell["delta"])
            dev = (
                _trim(cell["polar_dev"].sel(ode="second-order")).isel(time=-1)
                / np.sqrt(cell.sizes["n"])
            ).values
            ax_d.plot(np.full(dev.size, d), dev, "o", color="tab:blue", mfc="none", alpha=0.7)
            deltas.append(d)
            means.append(dev.mean())
        deltas, means = np.array(deltas), np.array(means)
        k = deltas @ means / (deltas @ deltas)
        ax_d.plot(deltas, means, "s", color="black", label="mean over draws")
        grid = np.linspace(0, deltas.max(), 20)
        ax_d.plot(grid, k * grid, "--", color="black", lw=1, label=f"fit {k:.2f} δ")
        ax_d.set_title(f"ODE, anisotropic Q0, N={aniso[0][2]['N']}")
        _legend(ax_d, fontsize=7)
    else:
        _no_data(ax_d, "anisotropic init_axis")
    ax_d.set_xlabel("anisotropy δ of Q0")
    ax_d.set_ylabel("‖P(M(t_max)) − P(M0)‖_F / √p*")
    fig.suptitle("F4: selection of the closest solution under SGD noise and anisotropic starts")
    return fig


# --- F5 -----------------------------------------------------------------------------------------


def f5_hessian(results: Results) -> Figure:
    """F5: sorted Hessian eigenvalues at the plateau and at the solution (symlog), one line per
    (N, p, p*), annotated with the counts found / predicted."""
    fig, axes = plotting.subplots(1, 2, width=5.0, height=4.2)
    runs = _cells(results, "hessian")
    for ax, point in zip(axes, POINTS):
        if not runs:
            _no_data(ax, "hessian")
            continue
        lines = []
        for k, (where, cell, params) in enumerate(runs):
            N, p, pstar = int(where["N"]), int(where["p"]), int(where["pstar"])
            ev = cell["eigenvalues"].sel(point=point).isel(seed=0).values
            ev = ev[np.isfinite(ev)]
            color = _SEED_COLORS[k % len(_SEED_COLORS)]
            ax.plot(
                np.arange(ev.size) / ev.size,
                ev,
                ".",
                ms=2.5,
                color=color,
                label=f"N={N}, p={p}, p*={pstar}",
            )
            got, pred = classify(ev, _ZERO_TOL), predicted_counts(point, N, p, pstar)
            lines.append(
                f"N={N},p={p},p*={pstar}: "
                + " ".join(f"{key[:3]} {got[key]}/{pred[key]}" for key in pred)
            )
            if point == "plateau":
                ax.axhline(
                    -4 * float(cell["a"]) * float(cell["b"]) / N, color=color, lw=0.6, ls=":"
                )
        ax.set_yscale("symlog", linthresh=1e-6)
        ax.axhspan(-_ZERO_TOL, _ZERO_TOL, color="grey", alpha=0.2)
        ax.text(
            0.02,
            0.98,
            "\n".join(["found/predicted:"] + lines),
            transform=ax.transAxes,
            va="top",
            fontsize=6.5,
        )
        ax.set_xlabel("eigenvalue rank / pN")
        ax.set_ylabel("eigenvalue (symlog; grey band |ev| ≤ 1e-7)")
        ax.set_title(
            "plateau: a saddle (dotted: −4ab/N)"
            if point == "plateau"
            else "solution manifold: marginal minima"
        )
        _legend(ax, fontsize=7, loc="lower right")
    fig.suptitle(
        "F5: population-loss Hessian spectra (finite differences of the analytic gradient)"
    )
    return fig


# --- F6 -----------------------------------------------------------------------------------------


def f6_init_axis(results: Results) -> Figure:
    """F6: t_half against ln rho (q0 = 1) with the slope -1/lambda, and against q0 (rho = 1),
    second-order ODE, draws and their mean."""
    fig, (ax_r, ax_q) = plotting.subplots(1, 2, width=4.6, height=3.8)
    iso = [
        (w, c, p)
        for w, c, p in _cells(results, "init_axis")
        if str(w["init"]).startswith("isotropic")
    ]
    for ax, axis, fixed, name in (
        (ax_r, "rho", ("q0", 1.0), "ρ"),
        (ax_q, "q0", ("rho", 1.0), "q0"),
    ):
        rows = []
        for where, cell, params in iso:
            if abs(float(cell[fixed[0]]) - fixed[1]) > 1e-12:
                continue
            th = cell["t_half"].sel(ode="second-order").values
            rows.append((float(cell[axis]), th, float(cell["rate"].sel(ode="second-order"))))
        if len(rows) < 1:
            _no_data(ax, f"isotropic inits varying {axis}")
            continue
        rows.sort(key=lambda r: r[0])
        x = np.array([r[0] for r in rows])
        mean = np.array([np.mean(r[1]) for r in rows])
        for xv, r in zip(x, rows):
            ax.plot(np.full(r[1].size, xv), r[1], "o", color="tab:blue", mfc="none", alpha=0.6)
        ax.plot(x, mean, "s-", color="black", label="mean over draws")
        if axis == "rho" and len(rows) > 1:
            lam = rows[0][2]
            ref = mean[np.argmin(np.abs(np.log(x)))]
            ax.plot(
                x,
                ref - np.log(x / x[np.argmin(np.abs(np.log(x)))]) / lam,
                "--",
                color="tab:red",
                label=f"slope −1/λ = {-1 / lam:.2f}",
            )
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
        ax.set_xlabel(f"{name} (init scale)")
        ax.set_ylabel("t_half")
        _legend(ax, fontsize=7)
    ax_r.set_title("the escape clock is ln‖M0‖")
    ax_q.set_title("q0 is forgotten by norm learning")
    N = iso[0][2]["N"] if iso else "?"
    fig.suptitle(f"F6: the init axis (ODE, isotropic Q0 = q0 I, M0 = ρ√q0 G/√N, N={N})")
    return fig


FIGURES: dict[str, Callable[[Results], Figure]] = {
    "f1_sgd_vs_ode": f1_sgd_vs_ode,
    "f2_escape_time": f2_escape_time,
    "f3_implicit_bias": f3_implicit_bias,
    "f4_selection": f4_selection,
    "f5_hessian": f5_hessian,
    "f6_init_axis": f6_init_axis,
}
