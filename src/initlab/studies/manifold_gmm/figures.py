"""Figures of the ``manifold_gmm`` brief (§6), one caption each in workflow/report/manifold_gmm/.

Each function takes the aggregated results ``{experiment: Dataset}`` and returns a matplotlib
Figure; each reads the same sweep point as the claims (`claims.point`).
"""

from __future__ import annotations

import numpy as np

from initlab.plotting import subplots

from .claims import point

__all__ = ["FIGURES"]

DATASETS = ("synthetic", "digits", "mnist")
SCORE_NAMES = {"acc": "ACC (Hungarian)", "nmi": "NMI", "ari": "ARI"}
SCHEME_COLOURS = {"lda_kmeans": "C0", "pca": "C1", "random": "C7"}


def _datasets(results):
    return [d for d in DATASETS if d in results]


def _needs(*experiments):
    """Draw a placeholder naming the missing experiment instead of failing the figures rule
    (no argument: at least one of `DATASETS` is needed)."""

    def wrap(draw):
        def run(results):
            missing = [e for e in experiments if e not in results]
            if not experiments and not any(d in results for d in DATASETS):
                missing = list(DATASETS)
            if missing:
                fig, ax = subplots(1, 1, width=4.0, height=1.5)
                ax.axis("off")
                ax.text(0.5, 0.5, f"not drawn: experiment(s) {', '.join(missing)} not run",
                        ha="center", va="center")  # fmt: skip
                return fig
            return draw(results)

        run.__doc__ = draw.__doc__
        return run

    return wrap


def _scheme(start: str) -> str:
    return "random" if start.startswith("random") else start


@_needs()
def scores(results):
    """ACC / NMI / ARI per dataset: every baseline, MGMM per init, NN; dashed: supervised LDA+GMM."""
    names = _datasets(results)
    fig, axes = subplots(len(names), 3, width=4.6, height=2.9, squeeze=False)
    for row, name in enumerate(names):
        ds = point(results, name)
        methods = [str(m) for m in ds["method"].values if m != "lda_gmm"]
        for col, (s, label) in enumerate(SCORE_NAMES.items()):
            ax = axes[row, col]
            da = ds[s].sel({"method": methods})
            colours = [
                "C2" if m.startswith("mgmm") else "C4" if m == "nn" else "0.6" for m in methods
            ]
            ax.bar(
                range(len(methods)), da.mean("seed"), yerr=da.std("seed"), color=colours, capsize=2
            )
            if "lda_gmm" in ds["method"].values:
                ax.axhline(float(ds[s].sel({"method": "lda_gmm"}).mean()), ls="--", color="k", lw=1)
            ax.set_xticks(
                range(len(methods)),
                [m.replace("mgmm_", "M:") for m in methods],
                rotation=60,
                ha="right",
                fontsize=7,
            )
            ax.set_ylim(0, 1.05)
            ax.set_title(f"{name}: {label} ({ds.sizes['seed']} seeds)")
    fig.suptitle("mean +- sd over seeds; dashed: supervised LDA+GMM reference", fontsize=9)
    return fig


@_needs()
def init_scatter(results):
    """Final l_eps / n against ACC, one point per start and seed, winner ringed."""
    names = _datasets(results)
    fig, axes = subplots(1, len(names), width=3.8, height=3.2, squeeze=False)
    for ax, name in zip(axes[0], names):
        ds = point(results, name)
        # random starts first, so the informed ones are drawn on top
        for start in sorted(ds["start"].values, key=lambda s: not str(s).startswith("random")):
            sch = _scheme(str(start))
            ax.scatter(
                ds["final_pen"].sel(start=start),
                ds["acc_start"].sel(start=start),
                s=12,
                color=SCHEME_COLOURS[sch],
                alpha=0.7,
                label=sch,
            )
        win = [str(w) for w in ds["winner"].values]
        xs = [float(ds["final_pen"].sel(seed=s, start=w)) for s, w in zip(ds["seed"].values, win)]
        ys = [float(ds["acc_start"].sel(seed=s, start=w)) for s, w in zip(ds["seed"].values, win)]
        ax.scatter(xs, ys, s=70, facecolors="none", edgecolors="k", label="l-winner")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize=7)
        ax.set_xlabel("final penalised l_eps / n")
        ax.set_ylabel("ACC")
        ax.set_title(name)
    return fig


@_needs("synthetic")
def objective(results):
    """l_eps / n (penalised, monotone) and plain l / n against outer iteration, synthetic seed 0."""
    ds = point(results, "synthetic")
    seed = ds["seed"].values[0]
    fig, axes = subplots(1, 2, width=4.4, height=3.2)
    for ax, var, title in zip(
        axes, ("loglik_pen", "loglik_plain"), ("penalised l_eps / n", "plain l / n")
    ):
        for start in ds["start"].values:
            tr = ds[var].sel(seed=seed, start=start)
            ax.plot(
                ds["outer_iter"], tr, color=SCHEME_COLOURS[_scheme(str(start))], lw=0.8, alpha=0.8
            )
        ax.set_xlabel("outer iteration")
        ax.set_title(f"{title}, synthetic seed {seed}, all {ds.sizes['start']} starts")
    for sch, c in SCHEME_COLOURS.items():
        axes[0].plot([], [], color=c, label=sch)
    axes[0].legend(fontsize=7)
    return fig


@_needs("synthetic")
def projection(results):
    """Synthetic seed 0: PCA-2 of raw X and the learned Z = X~ W, by true and found cluster."""
    ds = point(results, "synthetic")
    seed = ds["seed"].values[0]
    fig, axes = subplots(1, 3, width=3.4, height=3.2)
    z_pca, z = ds["z_pca"].sel(seed=seed).values, ds["z_learned"].sel(seed=seed).values
    y, found = ds["y_true"].sel(seed=seed).values, ds["y_found"].sel(seed=seed).values
    panels = [
        (z_pca, y, "PCA-2 of raw X, true label"),
        (z, y, "learned X~W, true label"),
        (z, found, "learned X~W, found cluster"),
    ]
    for ax, (pts, lab, title) in zip(axes, panels):
        ax.scatter(pts[:, 0], pts[:, 1], c=lab, cmap="tab10", s=5, vmin=0, vmax=9)
        ax.set_title(title)
        ax.set_aspect("equal", adjustable="datalim")
    return fig


@_needs("synthetic")
def subspace(results):
    """Principal-angle cosines to the true signal plane per seed: l-winner against the pca start."""
    ds = point(results, "synthetic")
    fig, ax = subplots(1, 1, width=5.0, height=3.2)
    seeds = ds["seed"].values
    win = [str(w) for w in ds["winner"].values]
    cos = ds["subspace_cos"]
    for j in range(cos.sizes["angle"]):
        ax.scatter(
            seeds - 0.1,
            [float(cos.sel(seed=s, start=w).isel(angle=j)) for s, w in zip(seeds, win)],
            color="C2",
            marker="o" if j == 0 else "v",
            label=f"l-winner, cos angle {j + 1}",
        )
        if "pca" in ds["start"].values:
            ax.scatter(
                seeds + 0.1,
                cos.sel(start="pca").isel(angle=j),
                color="C1",
                marker="o" if j == 0 else "v",
                label=f"pca start, cos angle {j + 1}",
            )
    ax.axhline(0.9, ls="--", color="k", lw=1)
    ax.set_xlabel("seed")
    ax.set_ylabel("cosine of principal angle to T")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


@_needs()
def nn_vs_linear(results):
    """NN family against its linear start: ACC change, likelihood gain and nn_within."""
    names = [n for n in _datasets(results) if "nn_acc" in results[n]]
    fig, axes = subplots(1, 2, width=4.4, height=3.2)
    labels, dacc, gain, within = [], [], [], []
    for name in names:
        ds = point(results, name)
        for cfg in ds["nn_config"].values:
            labels.append(f"{name}\n{cfg}")
            dacc.append(ds["nn_acc"].sel(nn_config=cfg) - ds["nn_linear_acc"].sel(nn_config=cfg))
            gain.append(ds["nn_gain"].sel(nn_config=cfg))
            within.append(float(ds["nn_within"].sel(nn_config=cfg).mean()))
    x = np.arange(len(labels))
    for ax, vals, title in zip(
        axes, (dacc, gain), ("ACC(nn) - ACC(linear)", "l_eps / n gain (nats/point)")
    ):
        ax.bar(
            x,
            [float(v.mean()) for v in vals],
            yerr=[float(v.std()) for v in vals],
            color="C4",
            capsize=3,
        )
        for xi, v in zip(x, vals):
            ax.scatter(np.full(v.size, xi), v.values.ravel(), color="k", s=6, zorder=3)
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(title)
    for xi, w in zip(x, within):
        axes[1].annotate(
            f"within {w:.3f}",
            (xi, 0),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            fontsize=7,
        )
    return fig


FIGURES = {
    "scores": scores,
    "init_scatter": init_scatter,
    "objective": objective,
    "projection": projection,
    "subspace": subspace,
    "nn_vs_linear": nn_vs_linear,
}
