"""Claims of the ``distributed_clustering`` brief (§4): pass/fail and report-only.

Results are ``{experiment: Dataset}`` (see `experiment`):

``dgc``      (init, alpha, split, seed, user, iter) and (init, alpha, split, seed[, iter])
``cgc``      (init, seed, iter)
``rho``      (init, split, rho, seed[, iter])
``losses``   (init, split, loss, delta, seed)
``descent``  (init, split, loss, seed)
``checks``   (init, seed), (init, split, seed) and scalars per init
``mnist``, ``probe``   (init, graph, split, seed[, user]) and (init, graph, seed) graph spectra

Cells that were not run are NaN after the outer merge; seeds that are NaN everywhere in a
selection are dropped, and any other missing cell raises (a FAIL with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from initlab.claims import Claim, Measurement, Threshold, at_least, at_most

__all__ = ["CLAIMS", "MAIN_ALPHA", "final_acc"]

#: Step size of the main grid (brief §3) and of the report-only alpha block.
MAIN_ALPHA = 0.01
BLOCK_ALPHA = 0.05
SPLITS = ("hom", "het")
#: The paper's Fig. 3 values [sourced, read off], for the detail strings and figures.
PAPER_FIG3 = {
    "hom": {"random": 0.844, 0: 0.877, 1: 0.874, 2: 0.876, 3: 0.883, 4: 0.873},
    "het": {"random": 0.847, 0: 0.892, 1: 0.892, 2: 0.860, 3: 0.872, 4: 0.877},
}

Results = Mapping[str, xr.Dataset]


def _clean(da: xr.DataArray, where: str) -> xr.DataArray:
    if "seed" in da.dims:
        da = da.dropna("seed", how="all")
    if da.size == 0 or bool(da.isnull().any()):
        raise ValueError(f"{where}: cells missing (not run)")
    return da


def _sel(results: Results, experiment: str, variable: str, **where) -> xr.DataArray:
    try:
        da = results[experiment][variable].sel(where)
    except KeyError as exc:
        raise ValueError(f"{experiment}.{variable}: no run at {where} ({exc})") from None
    if "iter" in da.dims:
        da = da.dropna("iter", how="all")
    return da


def final_acc(results: Results, init: str, alpha: float = MAIN_ALPHA) -> xr.DataArray:
    """Final user-averaged joint-data accuracy of DGC-KM (split, seed)."""
    da = _sel(results, "dgc", "acc_joint", init=init, alpha=alpha)
    return _clean(da.isel(iter=-1).mean("user"), f"dgc acc_joint init={init} alpha={alpha}")


def _cost(results, init, when, alpha=MAIN_ALPHA) -> xr.DataArray:
    da = _sel(results, "dgc", "cost_joint", init=init, alpha=alpha).isel(iter=when)
    return _clean(da.mean("user"), f"dgc cost_joint init={init}")


def cgc_final_acc(results: Results, init: str) -> xr.DataArray:
    da = _sel(results, "cgc", "cgc_acc", init=init).isel(iter=-1)
    return _clean(da, f"cgc init={init}")


def _per_split(values: dict, fmt="{:.3f}") -> str:
    return ", ".join(f"{k}: {fmt.format(v)}" for k, v in values.items())


# --- pass/fail ------------------------------------------------------------------------------


def _b_conv(results):
    d = _clean(_sel(results, "rho", "rho_disagreement", init="kmpp-L0"), "rho").mean("seed")
    ratios = {s: float(d.sel(split=s, rho=100.0) / d.sel(split=s, rho=10.0)) for s in SPLITS}
    detail = "; ".join(
        f"{s}: {float(d.sel(split=s, rho=100.0)):.3f} vs {float(d.sel(split=s, rho=10.0)):.3f} "
        f"({ratios[s]:.3f}x)"
        for s in SPLITS
    )
    return Measurement(max(ratios.values()), "disagreement(rho=100) vs (rho=10): " + detail)


def _b_descent(results):
    w = _clean(_sel(results, "descent", "max_rel_increase", init="random"), "descent")
    per = w.max("seed")
    detail = "; ".join(
        f"{s}/{l}: {float(per.sel(split=s, loss=l)):.3g}" for s in per["split"].values
        for l in per["loss"].values
    )  # fmt: skip
    return Measurement(float(w.max()), f"max relative increase of F per split/loss: {detail}")


def _b_robust_sd(results):
    cgc = cgc_final_acc(results, "random")
    dgc = final_acc(results, "random")
    sd_c = float(cgc.std(ddof=1))
    sd = {s: float(dgc.sel(split=s).std(ddof=1)) for s in SPLITS}
    ratios = {s: v / sd_c for s, v in sd.items()}
    return Measurement(
        max(ratios.values()),
        f"sd DGC(random) {_per_split(sd)}; sd CGC(random) {sd_c:.3f} ({cgc.sizes['seed']} seeds); "
        f"ratios {_per_split(ratios, '{:.2f}')}",
    )


def _b_robust_tail(results):
    cgc = float((cgc_final_acc(results, "random") < 0.7).mean())
    dgc_all = final_acc(results, "random")
    dgc = {s: float((dgc_all.sel(split=s) < 0.7).mean()) for s in SPLITS}
    margin = min(cgc - 0.10, 0.05 - max(dgc.values()))
    return Measurement(
        margin,
        f"fraction of seeds with final acc < 0.7: CGC(random) {cgc:.3f} (needs >= 0.10), "
        f"DGC(random) {_per_split(dgc)} (needs <= 0.05); measured = min of the two margins",
    )


def _cost_ratio(results, when):
    a = _cost(results, "dkmc-L1", when).mean("seed")
    b = _cost(results, "random", when).mean("seed")
    ratios = {s: float(a.sel(split=s) / b.sel(split=s)) for s in SPLITS}
    detail = "; ".join(
        f"{s}: {float(a.sel(split=s)):.1f} vs {float(b.sel(split=s)):.1f} ({ratios[s]:.2f}x)"
        for s in SPLITS
    )
    return Measurement(max(ratios.values()), "dkmc-L1 vs random mean joint cost: " + detail)


def _b_init_cost(results):
    return _cost_ratio(results, 0)


def _b_init_final_cost(results):
    return _cost_ratio(results, -1)


def _paired(results, split):
    a = final_acc(results, "dkmc-L1").sel(split=split)
    b = final_acc(results, "random").sel(split=split)
    diff = (a - b).dropna("seed")
    n = diff.sizes["seed"]
    se = float(diff.std(ddof=1)) / np.sqrt(n) if n > 1 else float("nan")
    return Measurement(
        float(diff.mean()),
        f"{split}: dkmc-L1 {float(a.mean()):.3f} vs random {float(b.mean()):.3f}; paired diff "
        f"{float(diff.mean()):+.3f} (se {se:.3f}; {int((diff > 0).sum())}/{n} wins)",
    )


def _b_paper_band(results):
    checks = []
    checks.append(("CGC(random)", float(cgc_final_acc(results, "random").mean()), 0.75, 0.87))
    checks.append(("CGC(kmpp-greedy)", float(cgc_final_acc(results, "kmpp-greedy").mean()), 0.86, 0.90))
    inits = [str(i) for i in results["dgc"]["init"].values]
    for init in inits:
        try:
            acc = final_acc(results, init)
        except ValueError:
            continue
        for s in SPLITS:
            checks.append((f"DGC {init} {s}", float(acc.sel(split=s).mean()), 0.78, 0.92))
    margin = min(min(v - lo, hi - v) for _, v, lo, hi in checks)
    detail = "; ".join(f"{n} {v:.3f} in [{lo}, {hi}]" for n, v, lo, hi in checks)
    return Measurement(margin, "smallest distance inside the bands (negative = outside): " + detail)


def _scalar(results, variable):
    da = results["checks"][variable].dropna("init", how="all")
    if da.size == 0:
        raise ValueError(f"checks.{variable}: not run")
    return da


def _b_sanity_a(results):
    v = _scalar(results, "sanity_a")
    return Measurement(float(v.max()), f"max |DGC(m=1, no edges, rho=1) - CGC| over {v.size} runs")


def _b_sanity_b(results):
    v = _scalar(results, "sanity_b")
    return Measurement(float(v.max()), f"max |Huber(delta=1e9, rho/2) - K-means(rho)| over {v.size} runs")


def _b_sanity_c(results):
    acc = float(_scalar(results, "lloyd_acc").max())
    inertia = float(_scalar(results, "lloyd_inertia").max())
    return Measurement(abs(acc - 0.8933), f"KMeans(3, n_init=10) on Iris: acc {acc:.4f}, inertia {inertia:.4f}")


def _b_sanity_c_inertia(results):
    inertia = float(_scalar(results, "lloyd_inertia").max())
    return Measurement(abs(inertia - 78.85), f"inertia {inertia:.4f} vs 78.85")


# --- report-only ----------------------------------------------------------------------------


def _l_table(results, variant=""):
    rows = {}
    for s in SPLITS:
        row = {"random": float(final_acc(results, "random").sel(split=s).mean())}
        for n_rounds in range(5):
            init = f"kmpp-L0{variant}" if n_rounds == 0 else f"dkmc-L{n_rounds}{variant}"
            try:
                row[n_rounds] = float(final_acc(results, init).sel(split=s).mean())
            except ValueError:
                pass
        rows[s] = row
    return rows


def _b_l_curve(results):
    rows = _l_table(results)
    het = {k: v for k, v in rows["het"].items() if k != "random"}
    best = max(het, key=het.get)
    detail = "; ".join(
        f"{s}: " + ", ".join(f"{k if k == 'random' else 'L' + str(k)} {v:.3f} (paper "
                             f"{PAPER_FIG3[s][k]:.3f})" for k, v in row.items())
        for s, row in rows.items()
    )  # fmt: skip
    return Measurement(float(best), f"best L in het (measured); mean final acc: {detail}")


def _b_greedy(results):
    parts = []
    for s in SPLITS:
        vals = {i: float(final_acc(results, i).sel(split=s).mean())
                for i in ("random", "kmpp-L0-greedy", "dkmc-L3-greedy")}  # fmt: skip
        parts.append(f"{s}: " + ", ".join(f"{k} {v:.3f}" for k, v in vals.items()))
    het = float(final_acc(results, "dkmc-L3-greedy").sel(split="het").mean())
    return Measurement(het, "measured: het dkmc-L3-greedy; " + "; ".join(parts))


def _b_losses(results):
    acc = results["losses"]["loss_acc"]
    gains, parts = [], []
    for s in SPLITS:
        for loss in acc["loss"].values:
            for delta in acc["delta"].values:
                r = _clean(acc.sel(init="random", split=s, loss=loss, delta=delta), "losses").mean()
                d = _clean(acc.sel(init="dkmc-L1", split=s, loss=loss, delta=delta), "losses").mean()
                gains.append(float(d - r))
                parts.append(f"{s} {loss} d={delta:g}: {float(r):.3f} -> {float(d):.3f}")
    return Measurement(min(gains), "min gain dkmc-L1 - random over losses/deltas/splits; " + "; ".join(parts))


def _b_alpha(results):
    parts, gaps = [], []
    for s in SPLITS:
        r = float(final_acc(results, "random", BLOCK_ALPHA).sel(split=s).mean())
        d = float(final_acc(results, "dkmc-L1", BLOCK_ALPHA).sel(split=s).mean())
        c = float(_cost(results, "dkmc-L1", 0, BLOCK_ALPHA).sel(split=s).mean()
                  / _cost(results, "random", 0, BLOCK_ALPHA).sel(split=s).mean())  # fmt: skip
        gaps.append(abs(d - r))
        parts.append(f"{s}: random {r:.3f}, dkmc-L1 {d:.3f}, init-cost ratio {c:.2f}")
    return Measurement(max(gaps), f"alpha={BLOCK_ALPHA}: max |acc gap| over splits; " + "; ".join(parts))


def _b_rho_acc(results):
    a = _clean(_sel(results, "rho", "rho_acc", init="kmpp-L0"), "rho").mean("seed")
    diffs = {s: float(a.sel(split=s, rho=100.0) - a.sel(split=s, rho=10.0)) for s in SPLITS}
    detail = "; ".join(
        f"{s}: rho=100 {float(a.sel(split=s, rho=100.0)):.3f} vs rho=10 {float(a.sel(split=s, rho=10.0)):.3f}"
        for s in SPLITS
    )
    return Measurement(float(np.mean(list(diffs.values()))), "mean acc(100) - acc(10); " + detail)


def _b_coverage(results):
    cgc = _clean(_sel(results, "cgc", "cgc_coverage_miss", init="random"), "cgc").mean()
    parts = [f"CGC random (K centres) {float(cgc):.3f}"]
    for init in ("random", "kmpp-L0"):
        d = _clean(_sel(results, "dgc", "coverage_miss", init=init, alpha=MAIN_ALPHA), "dgc")
        parts.append(f"DGC {init} (union of m K centres) " + _per_split(
            {s: float(d.sel(split=s).mean()) for s in SPLITS}))  # fmt: skip
    return Measurement(float(cgc), "fraction of (seed, class) Lloyd cells with no initial centre: " + "; ".join(parts))


def _b_local_only(results):
    v = _scalar(results, "local_only_acc")
    per = {s: float(v.sel(split=s).mean()) for s in SPLITS}
    return Measurement(per["het"], "local-only KMeans per user scored on all points: " + _per_split(per))


def _scaleup(results, experiment, hint):
    """The MNIST scale-up's (or probe's) dataset, or a ValueError saying why it is absent."""
    if experiment not in results:
        raise ValueError(hint)
    return results[experiment]


def _graph_text(ds) -> str:
    """lambda_max, lambda_2 and max degree per graph (mean over the seeds' graphs, with range)."""
    parts = []
    for g in ds["graph"].values:
        vals = {n: ds[n].sel(graph=g) for n in ("lambda_max", "lambda_2", "max_degree")}
        vals = {n: (v.max("init") if "init" in v.dims else v) for n, v in vals.items()}
        parts.append(
            f"{g}: lambda_max {float(vals['lambda_max'].min()):.2f}-{float(vals['lambda_max'].max()):.2f}, "
            f"lambda_2 {float(vals['lambda_2'].min()):.3f}-{float(vals['lambda_2'].max()):.3f}, "
            f"max degree {float(vals['max_degree'].min()):.0f}-{float(vals['max_degree'].max()):.0f}"
        )
    return "; ".join(parts)


def _cells_text(ds) -> str:
    """Per (init, graph, split): acc init -> final, cost / Lloyd init -> final, disagreement,
    wall seconds per run; means over seeds and users, with the seeds' range of final acc."""
    lloyd = float(ds["lloyd_inertia"].max())
    acc0, acc1 = ds["acc_init"].mean("user"), ds["acc_final"].mean("user")
    c0, c1 = ds["cost_init"].mean("user") / lloyd, ds["cost_final"].mean("user") / lloyd
    parts = []
    for init in ds["init"].values:
        for g in ds["graph"].values:
            for sp in SPLITS:
                cell = dict(init=init, graph=g, split=sp)
                a1 = acc1.sel(cell).dropna("seed")
                if a1.size == 0:
                    continue
                parts.append(
                    f"{init} {g} {sp}: acc {float(acc0.sel(cell).mean()):.3f} -> {float(a1.mean()):.3f} "
                    f"[{float(a1.min()):.3f}, {float(a1.max()):.3f}], cost/Lloyd "
                    f"{float(c0.sel(cell).mean()):.3f} -> {float(c1.sel(cell).mean()):.3f}, disagreement "
                    f"{float(ds['run_disagreement'].sel(cell).mean()):.3g}, "
                    f"{float(ds['run_wall_s'].sel(cell).mean()):.1f} s/run"
                )
    return "; ".join(parts)


def _init_cost_ratio(ds, init="dkmc-L1", base="random") -> dict:
    """Mean initial joint cost of ``init`` over that of ``base``, per split (paired seeds)."""
    cost = ds["cost_init"].mean("user")
    return {
        sp: float(cost.sel(init=init, split=sp).mean() / cost.sel(init=base, split=sp).mean())
        for sp in SPLITS
    }


def _b_mnist(results):
    ds = _scaleup(results, "mnist", "the MNIST scale-up runs at paper scale only (configs/paper.yaml)")
    acc = ds["acc_final"].mean("user")
    n = int(ds["n_samples"].max())
    return Measurement(
        float(acc.mean()),
        f"{n} images; mean final acc over all cells (Lloyd {float(ds['lloyd_acc'].max()):.3f}, inertia "
        f"{float(ds['lloyd_inertia'].max()):.4g}); total {float(ds['run_wall_s'].sum()):.0f} s wall over "
        f"{int(ds['run_wall_s'].notnull().sum())} runs; graphs: {_graph_text(ds)}; cells: {_cells_text(ds)}",
    )


def _b_mnist_probe(results):
    ds = _scaleup(results, "probe", "the reduced MNIST probe is not in this run's config")
    inits = [str(i) for i in ds["init"].values]
    if not {"random", "dkmc-L1"} <= set(inits):
        raise ValueError(f"the probe needs inits random and dkmc-L1, has {inits}")
    ratio = _init_cost_ratio(ds)
    extra = ""
    if "dkmc-L3" in inits:
        extra = f"; dkmc-L3 / random {_per_split(_init_cost_ratio(ds, 'dkmc-L3'), '{:.2f}x')}"
    # Does the init ranking of final acc agree across seeds (the brief saw it flip)?
    acc = ds["acc_final"].mean("user").sel(init=["random", "dkmc-L1"])
    wins = (acc.sel(init="dkmc-L1") > acc.sel(init="random")).sum("seed")
    n_seeds = acc.sizes["seed"]
    ranking = "; ".join(f"{g} {sp}: dkmc-L1 ahead in {int(wins.sel(graph=g, split=sp))}/{n_seeds} seeds"
                        for g in ds["graph"].values for sp in SPLITS)  # fmt: skip
    return Measurement(
        max(ratio.values()),
        f"initial joint cost dkmc-L1 / random {_per_split(ratio, '{:.2f}x')} (brief 0.67-0.69x){extra}; "
        f"{int(ds['n_samples'].max())} images, Lloyd acc {float(ds['lloyd_acc'].max()):.3f} inertia "
        f"{float(ds['lloyd_inertia'].max()):.4g} (brief 0.542, 3.006e5); final acc ranking: {ranking}; "
        f"graphs: {_graph_text(ds)}; cells: {_cells_text(ds)}",
    )


_ROBUST = "DGC(random) vs CGC(random)"
CLAIMS: list[Claim] = [
    Claim("B-conv", "A larger rho enforces consensus between the users' centres.",
          "rho block, kmpp-L0, 10 seeds: mean final disagreement at rho=100 divided by that at "
          "rho=10; max over hom/het", Threshold("<", 0.1), _b_conv, init="kmpp-L0"),
    Claim("B-descent", "Update (4) is a descent method for F at alpha below alpha_max.",
          "descent block: max over t of [F(x^{t+1}) - F(x^t)]/|F(x^t)| with nearest-centre "
          "assignment; four losses (delta=1), random init, both splits, 5 seeds, alpha=0.01, "
          "300 steps", at_most(1e-12), _b_descent, init="random"),
    Claim("B-robust-sd", "DGC is less sensitive to initialisation than CGC.",
          "sd over seeds of final user-averaged joint acc, DGC(random) main grid divided by "
          "CGC(random) (200 seeds); max over splits", Threshold("<", 0.6), _b_robust_sd, init=_ROBUST),
    Claim("B-robust-tail", "CGC from random init has a bad-run tail; DGC does not.",
          "fraction of seeds with final acc < 0.7: min(CGC - 0.10, 0.05 - max_split DGC); both "
          "conditions hold iff >= 0", at_least(0.0), _b_robust_tail, init=_ROBUST),
    Claim("B-init-cost", "DKM+C gives much better starting centres than random init.",
          "mean joint K-means cost of the initial centres, dkmc-L1 / random; max over splits",
          Threshold("<", 0.5), _b_init_cost, init="dkmc-L1 vs random"),
    Claim("B-init-final-cost", "The DKM+C advantage survives to the fixed point.",
          "mean final joint cost, dkmc-L1 / random; max over splits", Threshold("<", 1.0),
          _b_init_final_cost, init="dkmc-L1 vs random"),
    Claim("B-init-acc-het", "DKM+C beats random initialisation on heterogeneous data.",
          "het, main grid: mean over seeds of paired final acc dkmc-L1 - random",
          at_least(0.02), lambda r: _paired(r, "het"), init="dkmc-L1 vs random"),
    Claim("B-init-acc-hom", "DKM+C is not worse than random on homogeneous data.",
          "hom, main grid: mean over seeds of paired final acc dkmc-L1 - random",
          at_least(-0.01), lambda r: _paired(r, "hom"), init="dkmc-L1 vs random"),
    Claim("B-paper-band", "Loose reproduction of the paper's Fig. 2/3 accuracy levels.",
          "mean final acc: CGC(random) in [0.75, 0.87], CGC(greedy K-means++) in [0.86, 0.90], "
          "every DGC init of the alpha=0.01 grid and split in [0.78, 0.92]; measured = smallest "
          "distance inside a band", at_least(0.0), _b_paper_band, init="all"),
    Claim("B-sanity-a", "DGC with one user, no edges and rho=1 is CGC.",
          "max abs difference of iterates after 200 steps, 3 seeds", at_most(1e-12), _b_sanity_a,
          init="random"),
    Claim("B-sanity-b", "Huber with delta >= max r and rho/2 equals K-means with rho.",
          "max abs difference of iterates after 200 steps (het, random init, 3 seeds)",
          at_most(1e-12), _b_sanity_b, init="random"),
    Claim("B-sanity-c", "Lloyd reference on Iris: accuracy 0.8933.",
          "|acc - 0.8933| of sklearn KMeans(3, n_init=10, random_state=0)", at_most(5e-5),
          _b_sanity_c, init="kmeans++ (Lloyd)"),
    Claim("B-sanity-c-inertia", "Lloyd reference on Iris: inertia 78.85.",
          "|inertia - 78.85| of sklearn KMeans(3, n_init=10, random_state=0)", at_most(0.01),
          _b_sanity_c_inertia, init="kmeans++ (Lloyd)"),
    Claim("B-L-curve", "Final accuracy against DKM+C rounds L (paper Fig. 3).",
          "mean final acc per init (main grid); measured = best L in het", None, _b_l_curve,
          init="kmpp-L0..dkmc-L4"),
    Claim("B-greedy", "Greedy K-means++ inside DKM+C.", "mean final acc, greedy variants",
          None, _b_greedy, init="greedy"),
    Claim("B-losses", "DKM+C helps for every loss.", "losses block: final acc random -> dkmc-L1",
          None, _b_losses, init="dkmc-L1 vs random"),
    Claim("B-alpha", "At alpha=0.05 the init effect on accuracy shrinks.",
          "alpha block: |acc(dkmc-L1) - acc(random)|, max over splits", None, _b_alpha,
          init="dkmc-L1 vs random"),
    Claim("B-rho-acc", "Accuracy against rho at this budget (never asserted).",
          "rho block: mean final acc(rho=100) - acc(rho=10)", None, _b_rho_acc, init="kmpp-L0"),
    Claim("B-coverage", "m users' initial centres cover the Lloyd cells better than one set.",
          "fraction of (seed, class) Lloyd cells with no initial centre", None, _b_coverage,
          init="random"),
    Claim("B-local-only", "Local-only clustering (no communication) as a baseline.",
          "mean over seeds and users of each user's KMeans scored on all points; measured = het",
          None, _b_local_only, init="kmeans++ (local)"),
    Claim("B-MNIST", "Scale-up: DGC on MNIST PCA-50 over ring, ER and RGG graphs (paper scale).",
          "mnist block: mean over users and seeds of final joint acc per init, graph and split, and "
          "final cost / Lloyd inertia; measured = mean over all cells", None, _b_mnist, init="all"),
    Claim("B-MNIST-probe", "Reduced MNIST probe: DKM+C gives better starting centres on MNIST too.",
          "probe block (10k test split, PCA-50, m=20 on G(20, 0.25), rho 333/3333, alpha 0.25 "
          "alpha_max, T=1000): mean initial joint cost dkmc-L1 / random, max over splits; detail: "
          "acc and cost/Lloyd init -> final per init and split", None, _b_mnist_probe,
          init="dkmc-L1 vs random"),
]  # fmt: skip
