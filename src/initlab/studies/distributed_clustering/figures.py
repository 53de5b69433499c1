"""Figures of the ``distributed_clustering`` report (brief §6), one function per figure."""

from __future__ import annotations

import numpy as np

from initlab.plotting import subplots

from .claims import MAIN_ALPHA, PAPER_FIG3, SPLITS, final_acc

__all__ = ["FIGURES"]


def _has(da, **where) -> bool:
    """Whether every requested coordinate value was run (smoke configs run fewer points)."""
    return all(dim in da.dims and value in da[dim].values for dim, value in where.items())

#: The paper's Fig. 2 levels [sourced, read off]: (label, value) per split.
PAPER_FIG2 = {
    "hom": [("CGC random", 0.815), ("CGC K-means++", 0.89), ("DGC random", 0.845), ("DGC local K-means++", 0.88)],
    "het": [("CGC random", 0.815), ("CGC K-means++", 0.89), ("DGC random", 0.85), ("DGC local K-means++", 0.89)],
}  # fmt: skip


def class_counts(results):
    """Fig. 1: class counts per user, stacked bars, hom and het."""
    counts = results["dgc"]["class_counts"]
    counts = counts.isel({d: 0 for d in counts.dims if d not in ("split", "user", "cls")})
    fig, axes = subplots(1, 2, width=4.0, height=2.8)
    for ax, split in zip(axes, SPLITS):
        c = counts.sel(split=split).values
        bottom = np.zeros(c.shape[0])
        for k in range(c.shape[1]):
            ax.bar(np.arange(1, c.shape[0] + 1), c[:, k], bottom=bottom, label=f"class {k}")
            bottom += c[:, k]
        ax.set(title=f"{split}", xlabel="user", ylabel="points", xticks=np.arange(1, c.shape[0] + 1))
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _band(ax, iters, values, label, **kw):
    mean, sd = values.mean(0), values.std(0)
    (line,) = ax.plot(iters, mean, label=label, **kw)
    ax.fill_between(iters, mean - sd, mean + sd, color=line.get_color(), alpha=0.15)


def acc_vs_iter(results):
    """Fig. 2: accuracy against iteration, mean +- sd over seeds; paper levels dotted."""
    fig, axes = subplots(1, 2, width=4.4, height=3.2, sharey=True)
    dgc = results["dgc"]["acc_joint"].sel(alpha=MAIN_ALPHA).mean("user")
    cgc = results["cgc"]["cgc_acc"]
    for ax, split in zip(axes, SPLITS):
        for init in ("random", "kmpp-L0", "dkmc-L1"):
            if not _has(dgc, init=init):
                continue
            v = dgc.sel(init=init, split=split).dropna("seed", how="all").dropna("iter", how="all")
            _band(ax, v["iter"].values, v.values, f"DGC {init}")
        for init in ("random", "kmpp-greedy"):
            if not _has(cgc, init=init):
                continue
            v = cgc.sel(init=init).dropna("seed", how="all").dropna("iter", how="all")
            _band(ax, v["iter"].values, v.values, f"CGC {init}", ls="--")
        for (label, level), color in zip(PAPER_FIG2[split], ("C3", "C4", "C0", "C1")):
            ax.axhline(level, ls=":", lw=1, color=color)
        ax.set(title=f"{split} (dotted: paper Fig. 2)", xlabel="iteration t", ylim=(0.4, 1.0))
    axes[0].set_ylabel("joint-data accuracy")
    axes[0].legend(fontsize=7, loc="lower right")
    return fig


def acc_vs_L(results):
    """Fig. 3: final accuracy against DKM+C rounds L, random as a separate point; paper overlay."""
    fig, ax = subplots(1, 1, width=5.0, height=3.4)
    for j, split in enumerate(SPLITS):
        ls, means, sds = [], [], []
        for n_rounds in range(5):
            init = "kmpp-L0" if n_rounds == 0 else f"dkmc-L{n_rounds}"
            try:
                a = final_acc(results, init).sel(split=split)
            except ValueError:
                continue
            ls.append(n_rounds), means.append(float(a.mean())), sds.append(float(a.std()))
        color = f"C{j}"
        if not ls:
            continue
        ax.errorbar(np.array(ls) + 0.05 * j, means, yerr=sds, marker="o", capsize=3, color=color,
                    label=f"{split} (ours)")  # fmt: skip
        if _has(results["dgc"], init="random"):
            r = final_acc(results, "random").sel(split=split)
            ax.errorbar(-1 + 0.05 * j, float(r.mean()), yerr=float(r.std()), marker="s", capsize=3, color=color)
        paper = PAPER_FIG3[split]
        ax.plot(range(5), [paper[n] for n in range(5)], ls=":", marker="x", color=color,
                label=f"{split} (paper Fig. 3)")  # fmt: skip
        ax.plot(-1, paper["random"], marker="x", color=color)
    ax.set(xticks=range(-1, 5), xticklabels=["random"] + [f"L={n}" for n in range(5)],
           ylabel="final accuracy (mean +- sd)", title="DGC-KM, vanilla K-means++")  # fmt: skip
    ax.legend(fontsize=7)
    return fig


def init_vs_final_cost(results):
    """Fig. 4: joint cost of the initial centres against the final cost, one point per run."""
    cost = results["dgc"]["cost_joint"].sel(alpha=MAIN_ALPHA).mean("user")
    fig, axes = subplots(1, 2, width=4.2, height=3.4)
    inits = [str(i) for i in cost["init"].values]
    for ax, split in zip(axes, SPLITS):
        for j, init in enumerate(inits):
            v = cost.sel(init=init, split=split).dropna("seed", how="all").dropna("iter", how="all")
            if v.size == 0:
                continue
            ax.scatter(v.isel(iter=0), v.isel(iter=-1), s=12, color=f"C{j}", label=init)
        ax.set(xscale="log", title=split, xlabel="initial joint cost", ylabel="final joint cost")
    axes[0].legend(fontsize=6)
    return fig


def rho_traces(results):
    """Fig. 5: disagreement and F against iteration for rho in {10, 100} (log y)."""
    ds = results["rho"].sel(init="kmpp-L0")
    fig, axes = subplots(2, 2, width=4.0, height=2.8, sharex=True)
    for col, split in enumerate(SPLITS):
        for j, rho in enumerate(ds["rho"].values):
            for row, var in enumerate(("rho_disagreement_trace", "rho_F_trace")):
                v = ds[var].sel(split=split, rho=rho).dropna("seed", how="all")
                axes[row, col].plot(v["iter"], v.mean("seed"), color=f"C{j}", label=f"rho={rho:g}")
        axes[0, col].set(title=split, yscale="log", ylabel="disagreement")
        axes[1, col].set(yscale="log", ylabel="F", xlabel="iteration t")
    axes[0, 0].legend(fontsize=7)
    return fig


def loss_bars(results):
    """Fig. 6: final accuracy per loss and delta, random against dkmc-L1, hom and het."""
    acc = results["losses"]["loss_acc"]
    fig, axes = subplots(1, 2, width=4.6, height=3.2, sharey=True)
    labels = [f"{l}\nd={d:g}" for l in acc["loss"].values for d in acc["delta"].values]
    x = np.arange(len(labels))
    for ax, split in zip(axes, SPLITS):
        for j, init in enumerate(("random", "dkmc-L1")):
            if not _has(acc, init=init):
                continue
            v = acc.sel(split=split, init=init).dropna("seed", how="all")
            mean = v.mean("seed").values.ravel()
            sd = v.std("seed").values.ravel()
            ax.bar(x + (j - 0.5) * 0.4, mean, 0.4, yerr=sd, capsize=2, label=init)
        ax.set(title=split, xticks=x, ylim=(0.5, 1.0))
        ax.set_xticklabels(labels, fontsize=7)
    axes[0].set_ylabel("final accuracy")
    axes[0].legend(fontsize=7)
    return fig


def mnist_scaleup(results):
    """Fig. 7 (paper scale): final accuracy and cost / Lloyd against L per graph and split."""
    fig, axes = subplots(1, 2, width=4.4, height=3.2)
    ds = results.get("mnist")
    if ds is None or "acc_final" not in ds:
        for ax in axes:
            ax.text(0.5, 0.5, "MNIST scale-up: paper scale only\n(configs/paper.yaml)", ha="center",
                    va="center", transform=ax.transAxes)  # fmt: skip
            ax.set_axis_off()
        return fig
    inits = [i for i in ("random", "kmpp-L0", "dkmc-L1", "dkmc-L2", "dkmc-L3", "dkmc-L4") if i in ds["init"].values]
    acc = ds["acc_final"].mean("user")
    cost = ds["cost_final"].mean("user") / ds["lloyd_inertia"]
    for j, g in enumerate(ds["graph"].values):
        lam = ds["lambda_max"].sel(graph=g)
        lam2 = ds["lambda_2"].sel(graph=g)
        for sp, ls in zip(SPLITS, ("-", "--")):
            label = f"{g} {sp} (l2 {float(lam2.mean()):.2f}, lmax {float(lam.mean()):.1f})"
            axes[0].plot(range(len(inits)), [float(acc.sel(init=i, graph=g, split=sp).mean()) for i in inits],
                         ls=ls, marker="o", color=f"C{j}", label=label)  # fmt: skip
            axes[1].plot(range(len(inits)), [float(cost.sel(init=i, graph=g, split=sp).mean()) for i in inits],
                         ls=ls, marker="o", color=f"C{j}")  # fmt: skip
    axes[0].axhline(float(ds["lloyd_acc"].max()), color="k", ls=":", lw=1)
    for ax, name in zip(axes, ("final accuracy", "final cost / Lloyd inertia")):
        ax.set(xticks=range(len(inits)), ylabel=name)
        ax.set_xticklabels(inits, rotation=30, fontsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[1].legend(handles, labels, fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def mnist_probe(results):
    """The brief's reduced MNIST probe (report-only): accuracy and cost / Lloyd of the initial
    (open) and final (filled) centres per init and split, one marker per seed (mean over users)."""
    fig, axes = subplots(1, 2, width=4.4, height=3.2)
    ds = results.get("probe")
    if ds is None or "acc_final" not in ds:
        for ax in axes:
            ax.text(0.5, 0.5, "reduced MNIST probe not run", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        return fig
    inits = sorted((str(i) for i in ds["init"].values), key=lambda i: (i != "random", i))
    lloyd = float(ds["lloyd_inertia"].max())
    values = {
        "acc": (ds["acc_init"].mean("user"), ds["acc_final"].mean("user")),
        "cost": (ds["cost_init"].mean("user") / lloyd, ds["cost_final"].mean("user") / lloyd),
    }
    for ax, (name, (v0, v1)) in zip(axes, values.items()):
        for j, split in enumerate(SPLITS):
            for g in ds["graph"].values:
                for i, init in enumerate(inits):
                    xpos = i + 0.15 * (2 * j - 1)
                    a0 = v0.sel(init=init, graph=g, split=split).dropna("seed").values
                    a1 = v1.sel(init=init, graph=g, split=split).dropna("seed").values
                    ax.scatter(np.full(len(a0), xpos), a0, marker="o", facecolors="none", edgecolors=f"C{j}", s=22,
                               label=f"{split} initial ({g})" if i == 0 else None)  # fmt: skip
                    ax.scatter(np.full(len(a1), xpos), a1, marker="o", color=f"C{j}", s=22,
                               label=f"{split} final ({g})" if i == 0 else None)  # fmt: skip
        ax.set(xticks=range(len(inits)), xlim=(-0.6, len(inits) - 0.4))
        ax.set_xticklabels(inits, fontsize=8)
    axes[0].axhline(float(ds["lloyd_acc"].max()), color="k", ls=":", lw=1, label="Lloyd")
    axes[1].axhline(1.0, color="k", ls=":", lw=1)
    axes[0].set(ylabel="joint accuracy", title=f"MNIST probe (report-only), {int(ds['n_samples'].max())} images")
    axes[1].set(ylabel="joint cost / Lloyd inertia", title="cost relative to Lloyd")
    axes[0].legend(fontsize=6, ncol=2)
    return fig


FIGURES = {
    "class_counts": class_counts,
    "acc_vs_iter": acc_vs_iter,
    "acc_vs_L": acc_vs_L,
    "init_vs_final_cost": init_vs_final_cost,
    "rho_traces": rho_traces,
    "loss_bars": loss_bars,
    "mnist_scaleup": mnist_scaleup,
    "mnist_probe": mnist_probe,
}
