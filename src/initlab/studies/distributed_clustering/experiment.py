"""One sweep point of a ``distributed_clustering`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.distributed_clustering.experiments``); ``init`` is the
sweep axis of all of them:

``dgc``     main grid (B-robust, B-init-*, B-paper-band, B-L-curve), greedy block and alpha
            block: axes ``init``, ``alpha``; both splits inside one job, each with its rho
            (``rho_hom``, ``rho_het``). Traces every ``record_every`` steps.
``cgc``     centralized gradient clustering on the pooled data: axis ``init``
            (random, kmpp-vanilla, kmpp-greedy).
``rho``     B-conv: ``rhos`` inside the job, both splits.
``losses``  B-losses: Huber, logistic, fair x ``deltas`` inside the job, both splits.
``descent`` B-descent: F checked after every step, four losses, both splits.
``checks``  B-sanity (a), (b), (c) and the local-only baseline.
``mnist``   paper scale (B-MNIST, B-graph): PCA features of MNIST, m users on ring / ER / RGG
            graphs, hom and het shard splits, rho = rho_Iris N_i / 15, alpha = fraction x
            alpha_max; one seed at a time (each seed has its own random graph).
``probe``   the brief's measured reduced probe (B-MNIST-probe, report-only, quick scale): the
            same code on the shipped 10k test split, m = 20 users on G(20, 0.25).

Data. Every experiment reads the prepared artefact its ``data`` setting names (``iris``,
``mnist/test_pca50_all``, ``mnist/full_pca50_all``) with `read_data`; the workflow makes
``data/prepared/<name>.nc`` an input of the job, so the data stage builds it once.

Random streams. ``streams: keyed`` (default, the initlab contract) derives every generator from
``initlab.rng.generator(study, master_seed, <stream>, ..., seed)`` with the experiment left out
of the key, so every experiment sees the same splits and initial centres for a seed (the loss,
rho and alpha blocks are paired with the main grid):
``("split", seed)`` -> the users' data; ``("init", family, seed)`` with family ``random`` or
``kmpp-<variant>`` -> DGC initial centres (kmpp-L0 and every dkmc-L<l> of one variant share the
generator, so the L sweep is nested); ``("cgc-init", init, seed)`` -> CGC centres.
``streams: brief`` uses the brief's layout instead (``default_rng(seed)``, ``default_rng(1000 +
seed)``, ``default_rng(2000 + seed)``), which reproduces the brief's reference numbers exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import xarray as xr
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from initlab import rng as rngs

from . import algorithm, data, losses, metrics, network, scaleup
from .initialization import cgc_init, dgc_init, parse_init

__all__ = ["EXPERIMENTS", "run"]

EXPERIMENTS = ("dgc", "cgc", "rho", "losses", "descent", "checks", "mnist", "probe")
SPLITS = ("hom", "het")


def _var(dims, values, long_name: str, units: str = "1"):
    return dims, np.asarray(values), {"long_name": long_name, "units": units}


class _Streams:
    """The generators of one run (module docstring, "Random streams")."""

    def __init__(self, mode: str, key: tuple):
        if mode not in ("keyed", "brief"):
            raise ValueError(f"streams must be 'keyed' or 'brief', got {mode!r}")
        self.mode, self.key = mode, tuple(key[:2])  # (study, master_seed): no experiment

    def split(self, seed):
        if self.mode == "brief":
            return np.random.default_rng(seed)
        return rngs.generator(*self.key, "split", seed)

    def init(self, init, seed):
        if self.mode == "brief":
            return np.random.default_rng(1000 + seed)
        spec = parse_init(init)
        family = "random" if spec["scheme"] == "random" else f"kmpp-{spec['variant']}"
        return rngs.generator(*self.key, "init", family, seed)

    def cgc(self, init, seed):
        if self.mode == "brief":
            return np.random.default_rng(2000 + seed)
        return rngs.generator(*self.key, "cgc-init", init, seed)


def read_data(params) -> tuple[np.ndarray, np.ndarray]:
    """Features ``x`` (n, d) float64 and labels (n,) int64 of the prepared artefact that the
    point's ``data`` setting names (``iris``: 150 x 4 raw cm, the brief's §3; ``mnist/<subset>_
    pca50_all``: PCA-50 scores of pixels / 255 fitted on all rows, the brief's scale-up)."""
    from initlab.data import artefact

    ds = artefact(params["data"])
    return ds["x"].values.astype(float), ds["label"].values.astype(np.int64)


def _setup(split, seeds, x, labels, streams, m):
    """Per-seed users' data: padded y (S, m, N, d), mask (S, m, N), parts, class counts."""
    counts = data.split_counts(split)
    if counts.shape[0] != m:
        raise ValueError(f"the Iris splits are defined for m=10 users, got users={m}")
    parts = [data.split_indices(labels, counts, streams.split(s)) for s in seeds]
    n_max = max(len(p) for ps in parts for p in ps)
    ys, masks = [], []
    for ps in parts:
        y, mk = data.pad(x, ps)
        pad_n = n_max - y.shape[1]
        ys.append(np.pad(y, ((0, 0), (0, pad_n), (0, 0))))
        masks.append(np.pad(mk, ((0, 0), (0, pad_n))))
    return np.stack(ys), np.stack(masks), parts, counts


def _inits(init, parts, x, adj, k, streams, seeds):
    return np.stack(
        [dgc_init(init, [x[p] for p in ps], adj, k, streams.init(init, s)) for ps, s in zip(parts, seeds)]
    )


def _rho(params, split):
    return float(params[f"rho_{split}"])


def _scores(centres, x, labels, k):
    """acc_joint (..., ), cost (...,) of centre sets (..., K, d) on the joint data."""
    pred, _ = metrics.predict(centres, x)
    return metrics.accuracy(pred, labels, k), metrics.cost(centres, x)


def _local_acc(centres, y, mask, parts, labels, k):
    """Accuracy of each user's centres on its own data: (R, S, m)."""
    out = np.empty(centres.shape[:3])
    for s, ps in enumerate(parts):
        for i, p in enumerate(ps):
            if len(p) == 0:
                out[:, s, i] = np.nan
                continue
            pred, _ = metrics.predict(centres[:, s, i], y[s, i, : len(p)])
            out[:, s, i] = metrics.accuracy(pred, labels[p], k, n_classes=k)
    return out


def _lloyd(x, k):
    km = KMeans(k, n_init=10, random_state=0).fit(x)
    return km


def _coverage(centres, lloyd_centres):
    """Fraction of Lloyd cells (K) that contain none of the given centres (..., n_c, d)."""
    nearest, _ = metrics.predict(lloyd_centres, centres.reshape(-1, centres.shape[-1]))
    nearest = nearest.reshape(centres.shape[:-1])
    k = len(lloyd_centres)
    hit = (nearest[..., None] == np.arange(k)).any(-2)
    return 1.0 - hit.mean(-1)


def _dgc_split(params, split, init, seeds, x, labels, streams, log):
    m, k = int(params["users"]), int(params["k"])
    adj = network.ring(m)
    network.check_connected(adj)
    lap = network.laplacian(adj)
    y, mask, parts, counts = _setup(split, seeds, x, labels, streams, m)
    rho, alpha = _rho(params, split), float(params["alpha"])
    a_max = network.alpha_max(lap, mask.sum(-1).max(), rho, losses.beta("kmeans"))
    t0 = time.process_time()
    x0 = _inits(init, parts, x, adj, k, streams, seeds)
    init_cpu = time.process_time() - t0
    tr = algorithm.dgc(
        x0, y, mask, lap, alpha=alpha, rho=rho, steps=int(params["steps"]),
        record_every=int(params["record_every"]), alpha_bound=a_max,
    )  # fmt: skip
    cpu = time.process_time() - t0
    acc, cost = _scores(tr.centres, x, labels, k)  # (R, S, m)
    acc_local = _local_acc(tr.centres, y, mask, parts, labels, k)
    xbar = tr.centres.mean(2, keepdims=True)
    disagreement = ((tr.centres - xbar) ** 2).sum((-1, -2)).mean(-1)
    final = tr.centres[-1]
    pred, d2 = metrics.predict(final, x)  # (S, m, n)
    # user-averaged final labels: the label most users give a point (ties: lowest)
    votes = (pred[..., None] == np.arange(k)).sum(1)
    consensus_labels = votes.argmax(-1)
    nmi = [normalized_mutual_info_score(labels, lab) for lab in consensus_labels]
    ari = [adjusted_rand_score(labels, lab) for lab in consensus_labels]
    lloyd = _lloyd(x, k)
    cover = _coverage(x0.reshape(len(seeds), -1, x.shape[1]), lloyd.cluster_centers_)
    log(
        f"dgc {split} init={init} alpha={alpha:g} rho={rho:g} (alpha_max={a_max:.3f}): final acc "
        f"{acc[-1].mean():.3f} +- {acc[-1].mean(-1).std():.3f}, cost {cost[-1].mean():.1f}, "
        f"empty cells {int(tr.empty_cells.sum())}, cpu {cpu:.1f} s"
    )
    return {
        "acc_joint": acc, "acc_local": acc_local, "cost_joint": cost, "F": tr.f,
        "J_rho": tr.j_rho, "disagreement": disagreement, "nmi": np.asarray(nmi),
        "ari": np.asarray(ari), "empty_cells": tr.empty_cells, "coverage": cover,
        "alpha_max": a_max, "rho": rho, "iters": tr.iters, "counts": counts,
        "cpu_s": cpu, "init_cpu_s": init_cpu,
    }  # fmt: skip


def _dgc(params, seeds, key, log):
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    init = params["init"]
    out = {s: _dgc_split(params, s, init, seeds, x, labels, streams, log) for s in SPLITS}
    iters = out["hom"]["iters"]
    spec = parse_init(init)

    def stack(name, move_iter=True):
        v = np.stack([out[s][name] for s in SPLITS])
        return np.moveaxis(v, 1, -1) if move_iter else v

    su = ("split", "seed", "user", "iter")
    si = ("split", "seed", "iter")
    ss = ("split", "seed")
    return xr.Dataset(
        {
            "acc_joint": _var(su, stack("acc_joint"), "accuracy of a user's centres on all 150 points"),
            "acc_local": _var(su, stack("acc_local"), "accuracy of a user's centres on its own data"),
            "cost_joint": _var(su, stack("cost_joint"), "joint-data K-means cost of a user's centres", "cm^2"),
            "F": _var(si, stack("F"), "monitored objective F (consensus term halved)"),
            "J_rho": _var(si, stack("J_rho"), "J_rho as written in (2)"),
            "disagreement": _var(si, stack("disagreement"), "mean_i ||x_i - xbar||_F^2", "cm^2"),
            "nmi": _var(ss, stack("nmi", False), "NMI of the users' majority final labels"),
            "ari": _var(ss, stack("ari", False), "ARI of the users' majority final labels"),
            "empty_cells": _var(ss, stack("empty_cells", False), "empty (user, cluster) cells at the end"),
            "coverage_miss": _var(ss, stack("coverage", False), "fraction of Lloyd cells with no initial centre of any user"),
            "alpha_max": _var(("split",), [out[s]["alpha_max"] for s in SPLITS], "step bound alpha_max"),
            "rho_used": _var(("split",), [out[s]["rho"] for s in SPLITS], "rho of the split"),
            "class_counts": _var(("split", "user", "cls"), stack("counts", False), "points of each class per user"),
            "init_rounds": _var((), spec["L"], "communication rounds spent on initialisation (L)", "rounds"),
            "cpu_s": _var(("split",), [out[s]["cpu_s"] for s in SPLITS], "CPU seconds of the split (init + run)", "s"),
            "init_cpu_s": _var(("split",), [out[s]["init_cpu_s"] for s in SPLITS], "CPU seconds of the initialisation", "s"),
        },
        coords={
            "split": list(SPLITS),
            "seed": np.asarray(seeds, dtype=np.int64),
            "user": np.arange(int(params["users"])),
            "iter": iters,
            "cls": np.arange(3),
        },
    )  # fmt: skip


def _cgc(params, seeds, key, log):
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    k, init, alpha = int(params["k"]), params["init"], float(params["alpha"])
    a_max = 1.0 / (losses.beta("kmeans") * len(x))
    if alpha >= a_max:
        raise ValueError(f"CGC step alpha={alpha:g} is not below 1/(2 n)={a_max:.4g}")
    t0 = time.process_time()
    x0 = np.stack([cgc_init(init, x, k, streams.cgc(init, s)) for s in seeds])
    tr = algorithm.cgc(x0, x, alpha=alpha, steps=int(params["steps"]), record_every=int(params["record_every"]))
    cpu = time.process_time() - t0
    cen = tr.centres[:, :, 0]  # (R, S, K, d)
    acc, cost = _scores(cen, x, labels, k)
    pred, _ = metrics.predict(cen[-1], x)
    lloyd = _lloyd(x, k)
    log(f"cgc init={init}: final acc {acc[-1].mean():.3f} +- {acc[-1].std():.3f}, cost {cost[-1].mean():.1f}")
    return xr.Dataset(
        {
            "cgc_acc": _var(("seed", "iter"), acc.T, "CGC accuracy on the pooled data"),
            "cgc_cost": _var(("seed", "iter"), cost.T, "CGC K-means cost", "cm^2"),
            "cgc_nmi": _var(("seed",), [normalized_mutual_info_score(labels, p) for p in pred], "NMI"),
            "cgc_ari": _var(("seed",), [adjusted_rand_score(labels, p) for p in pred], "ARI"),
            "cgc_coverage_miss": _var(("seed",), _coverage(x0, lloyd.cluster_centers_), "fraction of Lloyd cells with no initial centre"),
            "cpu_s": _var((), cpu, "CPU seconds", "s"),
        },
        coords={"seed": np.asarray(seeds, dtype=np.int64), "iter": tr.iters},
    )  # fmt: skip


def _rho_block(params, seeds, key, log):
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    m, k, init = int(params["users"]), int(params["k"]), params["init"]
    adj = network.ring(m)
    lap = network.laplacian(adj)
    rhos = [float(r) for r in params["rhos"]]
    acc, f_tr, d_tr = [], [], []
    for split in SPLITS:
        y, mask, parts, _ = _setup(split, seeds, x, labels, streams, m)
        x0 = _inits(init, parts, x, adj, k, streams, seeds)
        row = []
        for rho in rhos:
            a_max = network.alpha_max(lap, mask.sum(-1).max(), rho, 2.0)
            tr = algorithm.dgc(
                x0, y, mask, lap, alpha=float(params["alpha"]), rho=rho,
                steps=int(params["steps"]), record_every=int(params["record_every"]), alpha_bound=a_max,
            )  # fmt: skip
            d = ((tr.centres - tr.centres.mean(2, keepdims=True)) ** 2).sum((-1, -2)).mean(-1)
            a, _ = _scores(tr.centres[-1], x, labels, k)
            row.append((d, a.mean(-1), tr.f))
            log(f"rho {split} rho={rho:g}: final disagreement {d[-1].mean():.3f}, acc {a.mean():.3f}")
        d_tr.append([r[0].T for r in row]), acc.append([r[1] for r in row]), f_tr.append([r[2].T for r in row])
    d_tr = np.asarray(d_tr)
    return xr.Dataset(
        {
            "rho_disagreement": _var(("split", "rho", "seed"), d_tr[..., -1], "final disagreement", "cm^2"),
            "rho_acc": _var(("split", "rho", "seed"), np.asarray(acc), "final user-averaged accuracy"),
            "rho_disagreement_trace": _var(("split", "rho", "seed", "iter"), d_tr, "disagreement", "cm^2"),
            "rho_F_trace": _var(("split", "rho", "seed", "iter"), np.asarray(f_tr), "monitored objective F"),
        },
        coords={"split": list(SPLITS), "rho": rhos, "seed": np.asarray(seeds, dtype=np.int64), "iter": tr.iters},
    )  # fmt: skip


def _losses(params, seeds, key, log):
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    m, k, init = int(params["users"]), int(params["k"]), params["init"]
    adj = network.ring(m)
    lap = network.laplacian(adj)
    names, deltas = list(params["losses"]), [float(d) for d in params["deltas"]]
    acc = np.empty((len(SPLITS), len(names), len(deltas), len(seeds)))
    cost = np.empty_like(acc)
    for a, split in enumerate(SPLITS):
        y, mask, parts, _ = _setup(split, seeds, x, labels, streams, m)
        x0 = _inits(init, parts, x, adj, k, streams, seeds)
        rho = _rho(params, split)
        for b, loss in enumerate(names):
            for c, delta in enumerate(deltas):
                a_max = network.alpha_max(lap, mask.sum(-1).max(), rho, losses.beta(loss, delta))
                xt = algorithm.dgc(
                    x0, y, mask, lap, alpha=float(params["alpha"]), rho=rho, steps=int(params["steps"]),
                    record_every=int(params["steps"]), loss=loss, delta=delta, alpha_bound=a_max,
                ).centres[-1]  # fmt: skip
                ac, co = _scores(xt, x, labels, k)
                acc[a, b, c], cost[a, b, c] = ac.mean(-1), co.mean(-1)
                log(f"losses {split} {loss} delta={delta:g} init={init}: acc {acc[a, b, c].mean():.3f}")
    dims = ("split", "loss", "delta", "seed")
    return xr.Dataset(
        {
            "loss_acc": _var(dims, acc, "final user-averaged accuracy"),
            "loss_cost": _var(dims, cost, "final user-averaged joint K-means cost", "cm^2"),
        },
        coords={"split": list(SPLITS), "loss": names, "delta": deltas, "seed": np.asarray(seeds, dtype=np.int64)},
    )  # fmt: skip


def _descent(params, seeds, key, log):
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    m, k, init = int(params["users"]), int(params["k"]), params["init"]
    adj = network.ring(m)
    lap = network.laplacian(adj)
    names, delta = list(params["losses"]), float(params["delta"])
    worst = np.empty((len(SPLITS), len(names), len(seeds)))
    for a, split in enumerate(SPLITS):
        y, mask, parts, _ = _setup(split, seeds, x, labels, streams, m)
        x0 = _inits(init, parts, x, adj, k, streams, seeds)
        rho = _rho(params, split)
        for b, loss in enumerate(names):
            a_max = network.alpha_max(lap, mask.sum(-1).max(), rho, losses.beta(loss, delta))
            tr = algorithm.dgc(
                x0, y, mask, lap, alpha=float(params["alpha"]), rho=rho, steps=int(params["steps"]),
                record_every=int(params["steps"]), loss=loss, delta=delta, alpha_bound=a_max,
                check_descent=True,
            )  # fmt: skip
            worst[a, b] = tr.max_rel_increase
            log(f"descent {split} {loss}: max relative increase of F {worst[a, b].max():.3g}")
    return xr.Dataset(
        {"max_rel_increase": _var(("split", "loss", "seed"), worst, "max_t [F(x^{t+1}) - F(x^t)] / |F(x^t)|")},
        coords={"split": list(SPLITS), "loss": names, "seed": np.asarray(seeds, dtype=np.int64)},
    )  # fmt: skip


def _checks(params, seeds, key, log):
    """B-sanity (a) DGC(m=1, no edges, rho=1) vs CGC; (b) Huber(delta=1e9, rho/2) vs K-means(rho);
    (c) Lloyd on Iris; and the local-only baseline (each user's KMeans scored on joint data)."""
    streams = _Streams(params.get("streams", "keyed"), key)
    x, labels = read_data(params)
    k, steps, alpha = int(params["k"]), int(params["steps"]), float(params["alpha"])
    x0 = np.stack([cgc_init("random", x, k, streams.cgc("random", s)) for s in seeds])
    c = algorithm.cgc(x0, x, alpha=alpha, steps=steps, record_every=steps).centres
    yy = np.broadcast_to(x[None, None], (len(seeds), 1) + x.shape)
    d = algorithm.step_loop(x0[:, None], yy, np.ones(yy.shape[:3], bool), network.laplacian(network.ring(1)),
                            alpha=alpha, rho=1.0, steps=steps)  # fmt: skip
    diff_a = np.abs(d - c[-1]).max((1, 2, 3))
    m = int(params["users"])
    adj = network.ring(m)
    lap = network.laplacian(adj)
    y, mask, parts, _ = _setup("het", seeds, x, labels, streams, m)
    x1 = _inits("random", parts, x, adj, k, streams, seeds)
    rho = float(params["rho_het"])
    km = algorithm.step_loop(x1, y, mask, lap, alpha=0.01, rho=rho, steps=steps)
    hu = algorithm.step_loop(x1, y, mask, lap, alpha=0.01, rho=rho / 2, steps=steps, loss="huber", delta=1e9)
    diff_b = np.abs(km - hu).max((1, 2, 3))
    lloyd = _lloyd(x, k)
    lloyd_acc = float(metrics.accuracy(lloyd.labels_, labels, k))
    local = np.empty((len(SPLITS), len(seeds)))
    for a, split in enumerate(SPLITS):
        _, _, parts, _ = _setup(split, seeds, x, labels, streams, m)
        for s, ps in enumerate(parts):
            cen = np.stack([KMeans(k, n_init=10, random_state=0).fit(x[p]).cluster_centers_ for p in ps])
            local[a, s] = _scores(cen, x, labels, k)[0].mean()
    log(f"checks: (a) {diff_a.max():.3g} (b) {diff_b.max():.3g} (c) acc {lloyd_acc:.4f} inertia {lloyd.inertia_:.4f}")
    return xr.Dataset(
        {
            "sanity_a": _var(("seed",), diff_a, "max |DGC(m=1, rho=1) - CGC| over iterates"),
            "sanity_b": _var(("seed",), diff_b, "max |Huber(1e9, rho/2) - K-means(rho)| after the steps"),
            "lloyd_acc": _var((), lloyd_acc, "accuracy of KMeans(K, n_init=10) on Iris"),
            "lloyd_inertia": _var((), float(lloyd.inertia_), "inertia of KMeans(K, n_init=10) on Iris", "cm^2"),
            "local_only_acc": _var(("split", "seed"), local, "local-only KMeans per user, scored on all points"),
        },
        coords={"seed": np.asarray(seeds, dtype=np.int64), "split": list(SPLITS)},
    )  # fmt: skip


def _mnist(params, seeds, key, log):
    """MNIST scale-up (``mnist``, paper scale) and the brief's measured reduced probe (``probe``,
    quick scale): for every graph, split and seed, DGC-KM from the point's init; the initial and
    final accuracy / K-means cost of every user's centres on the joint data, the final
    disagreement, the graph's spectrum and the CPU / wall seconds of each run.

    rho = rho_Iris N_i / 15 (brief §3: keeps the Iris consensus/innovation balance) and
    alpha = alpha_fraction x alpha_max of that graph and rho. Each seed has its own random graph
    (resampled with seed + 10000 j until connected), split and initial centres.
    """
    x, labels = read_data(params)
    m, k, init = int(params["users"]), int(params["k"]), params["init"]
    graphs, steps = list(params["graphs"]), int(params["steps"])
    streams = _Streams("keyed", key)
    t0 = time.perf_counter()
    lloyd = KMeans(k, n_init=10, random_state=0).fit(x)
    lloyd_acc = float(metrics.accuracy(lloyd.labels_, labels, k))
    log(f"{params['data']}: {x.shape[0]} x {x.shape[1]}; Lloyd KMeans({k}, n_init=10) acc {lloyd_acc:.4f}, "
        f"inertia {lloyd.inertia_:.6g} ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    shape = (len(graphs), len(SPLITS), len(seeds), m)
    out = {n: np.full(shape, np.nan) for n in ("acc_init", "acc_final", "cost_init", "cost_final")}
    per_run = {n: np.full(shape[:3], np.nan) for n in ("disagreement", "rho", "alpha", "alpha_max", "cpu_s", "wall_s")}
    empty = np.zeros(shape[:3], dtype=np.int64)
    stats = {n: np.full((len(graphs), len(seeds)), np.nan) for n in ("lambda_max", "lambda_2", "max_degree")}
    for a, kind in enumerate(graphs):
        for c, seed in enumerate(seeds):
            adj = scaleup.graph(kind, m, lambda j: rngs.generator(*key[:2], "graph", kind, seed + 10000 * j),
                                p=float(params["er_p"]), radius=float(params["rgg_radius"]))  # fmt: skip
            lap = network.laplacian(adj)
            for n, v in scaleup.graph_stats(adj).items():
                stats[n][a, c] = v
            for b, split in enumerate(SPLITS):
                w0, c0 = time.perf_counter(), time.process_time()
                parts = scaleup.shard_split(labels, m, split, streams.split(seed))
                y, mask = data.pad(x, parts)
                n_i = len(parts[0])
                rho = float(params[f"rho_iris_{split}"]) * n_i / 15
                a_max = network.alpha_max(lap, n_i, rho, losses.beta("kmeans"))
                alpha = float(params["alpha_fraction"]) * a_max
                x0 = dgc_init(init, [x[p] for p in parts], adj, k, streams.init(init, seed))
                tr = algorithm.dgc(x0[None], y[None], mask[None], lap, alpha=alpha, rho=rho, steps=steps,
                                   record_every=steps, alpha_bound=a_max)  # fmt: skip
                for when, name in ((0, "init"), (-1, "final")):
                    pred, d2 = metrics.predict(tr.centres[when, 0], x)
                    out[f"acc_{name}"][a, b, c] = metrics.accuracy(pred, labels, k)
                    out[f"cost_{name}"][a, b, c] = d2.sum(-1)
                fin = tr.centres[-1, 0]
                cell = (a, b, c)
                per_run["disagreement"][cell] = ((fin - fin.mean(0)) ** 2).sum((-1, -2)).mean()
                per_run["rho"][cell], per_run["alpha"][cell], per_run["alpha_max"][cell] = rho, alpha, a_max
                per_run["cpu_s"][cell] = time.process_time() - c0
                per_run["wall_s"][cell] = time.perf_counter() - w0
                empty[cell] = int(tr.empty_cells[0])
                log(f"{kind} (lambda_max {stats['lambda_max'][a, c]:.2f}, lambda_2 {stats['lambda_2'][a, c]:.3f}, "
                    f"max degree {stats['max_degree'][a, c]:.0f}) {split} seed={seed} init={init}: rho {rho:.1f}, "
                    f"alpha {alpha:.3g} = {float(params['alpha_fraction']):g} alpha_max; acc "
                    f"{out['acc_init'][cell].mean():.3f} -> {out['acc_final'][cell].mean():.3f}, cost/Lloyd "
                    f"{out['cost_init'][cell].mean() / lloyd.inertia_:.3f} -> "
                    f"{out['cost_final'][cell].mean() / lloyd.inertia_:.3f}, disagreement "
                    f"{per_run['disagreement'][cell]:.3g}, {per_run['wall_s'][cell]:.1f} s wall")  # fmt: skip
    gsu, gss = ("graph", "split", "seed", "user"), ("graph", "split", "seed")
    text = {
        "acc_init": "accuracy of a user's initial centres on the joint data",
        "acc_final": "accuracy of a user's final centres on the joint data",
        "cost_init": "joint-data K-means cost of a user's initial centres",
        "cost_final": "joint-data K-means cost of a user's final centres",
    }
    run_text = {
        "disagreement": ("final disagreement mean_i ||x_i - xbar||_F^2", "1"),
        "rho": ("rho = rho_Iris N_i / 15", "1"), "alpha": ("step size alpha", "1"),
        "alpha_max": ("step bound alpha_max of the graph and rho", "1"),
        "cpu_s": ("CPU seconds of the run (split, init, DGC, scoring)", "s"),
        "wall_s": ("wall seconds of the run (split, init, DGC, scoring)", "s"),
    }  # fmt: skip
    return xr.Dataset(
        {
            **{n: _var(gsu, v, text[n]) for n, v in out.items()},
            **{f"run_{n}": _var(gss, v, *run_text[n]) for n, v in per_run.items()},
            "empty_cells": _var(gss, empty, "empty (user, cluster) cells at the end"),
            **{n: _var(("graph", "seed"), v, n.replace("_", " ") + " of the graph (Laplacian)") for n, v in stats.items()},
            "lloyd_acc": _var((), lloyd_acc, "KMeans(K, n_init=10) accuracy"),
            "lloyd_inertia": _var((), float(lloyd.inertia_), "KMeans(K, n_init=10) inertia"),
            "n_samples": _var((), x.shape[0], "points in the joint data"),
        },
        coords={"graph": graphs, "split": list(SPLITS), "seed": np.asarray(seeds, dtype=np.int64),
                "user": np.arange(m)},  # fmt: skip
    )


_RUNNERS = {
    "dgc": _dgc, "cgc": _cgc, "rho": _rho_block, "losses": _losses, "descent": _descent,
    "checks": _checks, "mnist": _mnist, "probe": _mnist,
}  # fmt: skip


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
    """Run one sweep point; a Dataset with a ``seed`` dim and no sweep dims (initlab contract).

    params : the experiment's settings merged with the point's axis values (config.yaml).
    key : ``(study, master_seed, experiment)``; the experiment is left out of the stream keys.
    threads : BLAS threads are capped by the framework (threadpoolctl); the code is numpy only.
    device : only ``"cpu"`` (float64 numpy).
    """
    if device != "cpu":
        raise ValueError(f"distributed_clustering: device {device!r} is not implemented, only 'cpu'")
    if experiment not in _RUNNERS:
        raise ValueError(f"unknown distributed_clustering experiment {experiment!r}; expected {EXPERIMENTS}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    if experiment != "cgc":
        parse_init(params["init"])
    return _RUNNERS[experiment](params, seeds, key, log)
