"""One sweep point of a ``manifold_gmm`` experiment -> `xarray.Dataset` (brief §3).

Experiments (``config.yaml``, ``studies.manifold_gmm.experiments``); the ``init`` axis is the
MGMM initialisation (`initialization`), e.g. ``multistart-20``:

``synthetic``   make_synth3 (n, D, K = 4, d = 2), p = D, a new draw per seed.
``digits``      the prepared artefact ``digits`` (1797 x 64, pixels / 16); the seed changes only
                the k-means and random starts.
``mnist``       ``mnist/test`` (quick) or ``mnist/full`` (paper), pixels / 255; with
                ``n_subsample`` each seed s draws its own subset (in file order) and the
                whitening is fitted on that subset.

Per seed: whiten (top-p PCA, ddof 1), run the baselines, every MGMM start of the init value as
one batch (`algorithm.fit`), the NN family from the selected linear solution, and the geometry
checks of claim A-manifold. Variables (dims):

``acc``, ``nmi``, ``ari`` (seed, method): baselines, ``mgmm_<start kind>``, ``mgmm_random``
    (the best-l random start), ``mgmm_multistart`` (the l-winner of all starts), ``nn``.
``acc_start``, ``nmi_start``, ``ari_start``, ``acc_init`` (seed, start): per start at the end
    and at iteration 0; ``final_pen`` (seed, start) the final l_eps / n.
``loglik_pen``, ``loglik_plain`` (seed, start, outer_iter): l_eps / n and plain l / n.
``orth_err``, ``min_increase``, ``line_search_failures`` (seed, start); ``winner`` (seed) str.
``subspace_cos`` (seed, start, angle): synthetic only, principal-angle cosines to T.
``nn_acc``, ``nn_nmi``, ``nn_ari``, ``nn_within``, ``nn_reduce_err``, ``nn_gain``,
    ``nn_linear_acc`` (seed, nn_config); ``nn_loglik_pen``, ``nn_loglik_plain``
    (seed, nn_config, nn_iter), NaN past a config's own T.
``geom`` (seed, check): tangent ||sym(W^T xi)||_F, fd relative gradient error (h = 1e-6), and
    retraction ||qf(W + 0 xi) - W||_F, each the max over 3 random W.
``z_learned``, ``z_pca`` (seed, sample, comp), ``y_true``, ``y_found`` (seed, sample): with
    ``store_projection``, the winner's X~W and the PCA-2 scores of the raw data.
``wall_s``, ``cpu_s`` (seed, block); ``method_wall_s`` (seed, method); ``n_points`` and
``n_starts`` (seed): the points clustered and the restarts run (the init's "cost");
``spectral_n`` (seed): the points spectral clustering saw (a subsample above spectral_max_n).

Random streams (`initlab.rng.generator`, keys prefixed by ``key``): ``("data", n, D, nuisance,
separation, seed)``, ``("subset", n_total, n_subsample, seed)``, ``("sklearn", seed)`` (one
random_state for every scikit-learn estimator of a seed, as the brief's random_state=seed),
``("random_starts", p, d, seed)`` (drawn in order, so random r is the same for every R),
``("spectral", seed)``, ``("nn", seed, config)``, ``("checks", seed)``. The init value is in
no key, so every init sees the same data, k-means labels and random draws.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np
import xarray as xr

from initlab import rng as rngs

from . import algorithm, baselines, initialization, metrics, preprocessing, stiefel, synthetic

__all__ = ["EXPERIMENTS", "geometry_checks", "nn_configs", "run"]

EXPERIMENTS = ("synthetic", "digits", "mnist")
BLOCKS = ("data", "baselines", "mgmm", "nn", "checks")
CHECKS = ("tangent", "fd", "retraction")


def nn_configs(params: dict) -> list[tuple[str, int, float, int]]:
    """``(name, hidden, lr, outer)`` for the product of nn_hidden x nn_lr x nn_outer."""
    out = []
    for h, lr, t in itertools.product(params["nn_hidden"], params["nn_lr"], params["nn_outer"]):
        out.append((f"h{h}-lr{lr:g}-T{t}", int(h), float(lr), int(t)))
    return out


def geometry_checks(x, mix, rng, *, h=1e-6, draws=3, max_points=500) -> dict[str, float]:
    """Claim A-manifold on the run's own data and GMM: max over ``draws`` random W of
    ||sym(W^T xi)||_F, of ||G - G_fd|| / ||G|| (central differences, step h) and of
    ||qf(W + 0 xi) - W||_F. The gradient check uses at most ``max_points`` rows."""
    if len(x) > max_points:
        x = x[np.sort(rng.choice(len(x), max_points, replace=False))]
    p, d = x.shape[1], mix.mu.shape[-1]
    out = dict.fromkeys(CHECKS, 0.0)
    for _ in range(draws):
        w = stiefel.random_point(rng, p, d)[None]
        g = algorithm.euclidean_gradient(x, w, mix)
        xi = stiefel.riemannian_gradient(w, g)
        out["tangent"] = max(out["tangent"], float(np.linalg.norm(stiefel.sym(w[0].T @ xi[0]))))
        out["retraction"] = max(
            out["retraction"], float(np.linalg.norm(stiefel.retract(w, xi, 0.0) - w))
        )
        fd = np.empty((p, d))
        for i, j in itertools.product(range(p), range(d)):
            e = np.zeros((1, p, d))
            e[0, i, j] = h
            up, down = algorithm.objective(x, w + e, mix), algorithm.objective(x, w - e, mix)
            fd[i, j] = (up[0] - down[0]) / (2 * h)
        out["fd"] = max(out["fd"], float(np.linalg.norm(g[0] - fd) / np.linalg.norm(g[0])))
    return out


class _Clock:
    """Wall and CPU seconds per block."""

    def __init__(self):
        self.wall = dict.fromkeys(BLOCKS, 0.0)
        self.cpu = dict.fromkeys(BLOCKS, 0.0)

    def __call__(self, block):
        clock = self

        class _Span:
            def __enter__(self):
                self.w, self.c = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                clock.wall[block] += time.perf_counter() - self.w
                clock.cpu[block] += time.process_time() - self.c

        return _Span()


def _real_data(name: str):
    from initlab.data import artefact

    ds = artefact(name)
    return ds["x"].values.astype(np.float64), ds["label"].values.astype(np.int64)


def _seed_data(experiment, params, seed, key, cache):
    """``(raw x, labels, Q or None)`` of one seed."""
    if experiment == "synthetic":
        g = rngs.generator(
            *key, "data", params["n"], params["D"], params["nuisance"], params["separation"], seed
        )
        return synthetic.make_synth3(
            g,
            params["n"],
            params["D"],
            params["k"],
            nuisance=params["nuisance"],
            separation=params["separation"],
        )
    if "real" not in cache:
        cache["real"] = _real_data(params["data"])
    x, y = cache["real"]
    n_sub = params.get("n_subsample")
    if n_sub is not None and n_sub < len(x):
        idx = np.sort(
            rngs.generator(*key, "subset", len(x), n_sub, seed).choice(len(x), n_sub, replace=False)
        )
        x, y = x[idx], y[idx]
    return x, y, None


def _run_seed(experiment, params, seed, key, device, log, cache):
    clock = _Clock()
    k, d, eps = int(params["k"]), int(params["d"]), float(params["eps"])
    with clock("data"):
        x, y, q = _seed_data(experiment, params, seed, key, cache)
        x = preprocessing.check_data(x, k)
        p = int(params["D"]) if experiment == "synthetic" else int(params["p"])
        xw, pca = preprocessing.whiten(x, p)
    rs = int(rngs.generator(*key, "sklearn", seed).integers(2**31 - 1))
    out: dict = {"scores": {}, "method_wall": {}}

    def score(method, labels, seconds):
        out["scores"][method] = metrics.scores(y, labels)
        out["method_wall"][method] = seconds

    lda_on_raw = params["lda_kmeans_on"] == "raw"
    lda_labels = None
    with clock("baselines"):
        if params["baselines"]:
            n_init, reg = int(params["gmm_n_init"]), float(params["gmm_reg"])
            # The brief's GMM row says "the same whitened input (for synthetic, p = D, so this is
            # raw)", and its synthetic number (0.461) is reproduced on raw X only: GMM's k-means
            # initialisation is not affine-invariant, and on X~ it reaches about 0.87. So the
            # input is a setting (raw on synthetic, as measured), and with raw input the whitened
            # variant runs too, as `gmm_white` (report-only, claim A-vs-GMM).
            gmm_x = x if params["gmm_input"] == "raw" else xw
            runs = {
                "kmeans": lambda: baselines.kmeans(x, k, rs),
                "gmm": lambda: baselines.gmm(gmm_x, k, rs, n_init, reg),
                "pca_kmeans": lambda: baselines.pca_kmeans(x, k, d, rs),
                "pca_gmm": lambda: baselines.pca_gmm(
                    x, k, d, rs, n_init, float(params["pca_gmm_reg"])
                ),
                "lda_gmm": lambda: baselines.lda_gmm(x, y, k, d, rs, n_init, reg),
            }
            if params["gmm_input"] == "raw":
                runs["gmm_white"] = lambda: baselines.gmm(xw, k, rs, n_init, reg)
            for name, fn in runs.items():
                t0 = time.perf_counter()
                labels = fn()
                score(name, labels, time.perf_counter() - t0)
                if name == "kmeans" and lda_on_raw:
                    lda_labels = labels  # the same KMeans(K, n_init=10, random_state) as lda_kmeans
            t0 = time.perf_counter()
            idx = np.arange(len(x))
            if len(x) > int(params["spectral_max_n"]):
                g = rngs.generator(*key, "spectral", seed)
                idx = np.sort(g.choice(len(x), int(params["spectral_max_n"]), replace=False))
            labels = baselines.spectral(x[idx], k, rs, int(params["spectral_neighbors"]))
            out["scores"]["spectral"] = metrics.scores(y[idx], labels)
            out["method_wall"]["spectral"] = time.perf_counter() - t0
            out["spectral_n"] = len(idx)
        else:
            out["spectral_n"] = 0
    with clock("mgmm"):
        names = initialization.start_names(params["init"])
        t0 = time.perf_counter()
        if "lda_kmeans" in names and lda_labels is None:
            lda_labels = baselines.kmeans(x if lda_on_raw else xw, k, rs)
        starts = initialization.initial_starts(
            xw,
            names,
            k=k,
            d=d,
            eps=eps,
            random_state=rs,
            rng=rngs.generator(*key, "random_starts", p, d, seed),
            lda_labels=lda_labels,
        )
        fit = algorithm.fit(
            xw,
            starts.w,
            starts.mix,
            eta0=float(params["eta0"]),
            outer_iters=int(params["outer_iters"]),
            riem_steps=int(params["riem_steps"]),
        )
        wall = time.perf_counter() - t0
        per_start = [metrics.scores(y, lab) for lab in fit.labels]
        final = fit.trace_pen[:, -1]
        winner = int(np.argmax(final))
        for i, name in enumerate(names):
            if not name.startswith("random"):
                out["scores"][f"mgmm_{name}"] = per_start[i]
                out["method_wall"][f"mgmm_{name}"] = wall / len(names)
        rand = [i for i, nm in enumerate(names) if nm.startswith("random")]
        if rand:
            best = max(rand, key=lambda i: final[i])
            out["scores"]["mgmm_random"] = per_start[best]
            out["method_wall"]["mgmm_random"] = wall * len(rand) / len(names)
        if params["init"].startswith("multistart"):
            out["scores"]["mgmm_multistart"] = per_start[winner]
            out["method_wall"]["mgmm_multistart"] = wall
        out.update(
            start_scores=per_start,
            acc_init=[metrics.hungarian_accuracy(y, lab) for lab in fit.labels0],
            fit=fit,
            names=names,
            winner=names[winner],
        )
        if q is not None:
            t = synthetic.signal_subspace(q, pca)
            from scipy.linalg import subspace_angles

            out["subspace_cos"] = np.stack(
                [np.sort(np.cos(subspace_angles(w, t)))[::-1] for w in fit.w]
            )
    nn_out = []
    with clock("nn"):
        if params["nn"]:
            from . import nn_map

            src = winner if params["nn_start"] == "winner" else names.index("lda_kmeans")
            mix_src = fit.mix.take(np.array([src]))
            for cname, hidden, lr, outer in nn_configs(params):
                t0 = time.perf_counter()
                res = nn_map.fit_nn(
                    xw,
                    fit.w[src],
                    mix_src,
                    float(fit.trace_pen[src, -1]),
                    rng=rngs.generator(*key, "nn", seed, cname),
                    hidden=hidden,
                    lr=lr,
                    weight_decay=float(params["nn_weight_decay"]),
                    outer_iters=outer,
                    adam_steps=int(params["nn_adam_steps"]),
                    device=device,
                )
                nn_out.append(
                    (
                        cname,
                        res,
                        metrics.scores(y, res.labels),
                        float(fit.trace_pen[src, -1]),
                        per_start[src]["acc"],
                    )
                )
                if len(nn_out) == 1:
                    out["scores"]["nn"] = nn_out[0][2]
                    out["method_wall"]["nn"] = time.perf_counter() - t0
    out["nn"] = nn_out
    with clock("checks"):
        out["geom"] = geometry_checks(
            xw, fit.mix.take(np.array([winner])), rngs.generator(*key, "checks", seed)
        )
    if params["store_projection"]:
        out["z_learned"] = (xw @ fit.w[winner])[:, :2]
        out["z_pca"] = pca.transform(x)[:, :2] if p >= 2 else None
        out["y_true"], out["y_found"] = y, fit.labels[winner]
    out["clock"], out["n_points"] = clock, len(x)
    log(
        f"seed {seed}: n={len(x)} p={p} d={d}, winner {names[winner]} ACC {per_start[winner]['acc']:.3f}, "
        + ", ".join(f"{m} {s['acc']:.3f}" for m, s in out["scores"].items())
        + f"; {sum(clock.wall.values()):.1f} s"
    )
    return out


def _dataset(outs, seeds, params, experiment) -> xr.Dataset:
    methods = list(outs[0]["scores"])
    names = outs[0]["names"]
    t_iters = outs[0]["fit"].trace_pen.shape[1]
    coords = {
        "seed": np.asarray(seeds),
        "method": np.asarray(methods, dtype=str),
        "start": np.asarray(names, dtype=str),
        "outer_iter": np.arange(t_iters),
        "block": np.asarray(BLOCKS, dtype=str),
        "check": np.asarray(CHECKS, dtype=str),
    }
    data = {}
    for s in metrics.SCORES:
        data[s] = (("seed", "method"), [[o["scores"][m][s] for m in methods] for o in outs])
        data[f"{s}_start"] = (
            ("seed", "start"),
            [[sc[s] for sc in o["start_scores"]] for o in outs],
        )
    data["acc_init"] = (("seed", "start"), [o["acc_init"] for o in outs])
    data["final_pen"] = (("seed", "start"), [o["fit"].trace_pen[:, -1] for o in outs])
    data["loglik_pen"] = (("seed", "start", "outer_iter"), [o["fit"].trace_pen for o in outs])
    data["loglik_plain"] = (("seed", "start", "outer_iter"), [o["fit"].trace_plain for o in outs])
    data["orth_err"] = (("seed", "start"), [o["fit"].orth_err for o in outs])
    data["min_increase"] = (("seed", "start"), [o["fit"].min_increase for o in outs])
    data["line_search_failures"] = (
        ("seed", "start"),
        [o["fit"].line_search_failures for o in outs],
    )
    data["winner"] = (("seed",), np.asarray([o["winner"] for o in outs], dtype=str))
    data["geom"] = (("seed", "check"), [[o["geom"][c] for c in CHECKS] for o in outs])
    data["wall_s"] = (("seed", "block"), [[o["clock"].wall[b] for b in BLOCKS] for o in outs])
    data["cpu_s"] = (("seed", "block"), [[o["clock"].cpu[b] for b in BLOCKS] for o in outs])
    data["method_wall_s"] = (
        ("seed", "method"),
        [[o["method_wall"][m] for m in methods] for o in outs],
    )
    data["n_points"] = (("seed",), [o["n_points"] for o in outs])
    data["n_starts"] = (("seed",), [len(o["names"]) for o in outs])
    data["spectral_n"] = (("seed",), [o["spectral_n"] for o in outs])
    if "subspace_cos" in outs[0]:
        data["subspace_cos"] = (("seed", "start", "angle"), [o["subspace_cos"] for o in outs])
    if outs[0]["nn"]:
        cfgs = [c[0] for c in outs[0]["nn"]]
        coords["nn_config"] = np.asarray(cfgs, dtype=str)
        t_max = max(len(c[1].trace_pen) for c in outs[0]["nn"])
        coords["nn_iter"] = np.arange(t_max)

        def pad(a):
            return np.concatenate([a, np.full(t_max - len(a), np.nan)])

        for s in metrics.SCORES:
            data[f"nn_{s}"] = (("seed", "nn_config"), [[c[2][s] for c in o["nn"]] for o in outs])
        data["nn_within"] = (("seed", "nn_config"), [[c[1].within for c in o["nn"]] for o in outs])
        data["nn_reduce_err"] = (
            ("seed", "nn_config"),
            [[c[1].reduce_err for c in o["nn"]] for o in outs],
        )
        data["nn_gain"] = (
            ("seed", "nn_config"),
            [[c[1].trace_pen[-1] - c[3] for c in o["nn"]] for o in outs],
        )
        data["nn_linear_acc"] = (("seed", "nn_config"), [[c[4] for c in o["nn"]] for o in outs])
        data["nn_loglik_pen"] = (
            ("seed", "nn_config", "nn_iter"),
            [[pad(c[1].trace_pen) for c in o["nn"]] for o in outs],
        )
        data["nn_loglik_plain"] = (
            ("seed", "nn_config", "nn_iter"),
            [[pad(c[1].trace_plain) for c in o["nn"]] for o in outs],
        )
    if params["store_projection"]:
        data["z_learned"] = (("seed", "sample", "comp"), [o["z_learned"] for o in outs])
        data["z_pca"] = (("seed", "sample", "comp"), [o["z_pca"] for o in outs])
        data["y_true"] = (("seed", "sample"), [o["y_true"] for o in outs])
        data["y_found"] = (("seed", "sample"), [o["y_found"] for o in outs])
    ds = xr.Dataset(data, coords=coords)
    ds["loglik_pen"].attrs["description"] = "penalised log-likelihood per point l_eps / n"
    ds["acc"].attrs["description"] = "Hungarian-matched accuracy"
    return ds


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
    """Run one sweep point (see the module docstring); no sweep-axis dims in the result.

    ``threads`` caps BLAS/OpenMP (scikit-learn's KMeans oversubscribes 2 shared cores badly,
    brief §7) and torch; ``device`` (cpu or cuda) is used by the NN family only.
    """
    if experiment not in EXPERIMENTS:
        raise ValueError(
            f"unknown manifold_gmm experiment {experiment!r}; expected one of {EXPERIMENTS}"
        )
    if device not in ("cpu", "cuda"):
        raise ValueError(f"manifold_gmm: device must be cpu or cuda (resolved), got {device!r}")
    initialization.parse_init(params["init"])
    if (experiment == "synthetic") == ("data" in params):
        raise ValueError(
            "manifold_gmm: the real-data experiments need a `data` setting, synthetic takes none"
        )
    if (
        params["nn"]
        and params["nn_start"] == "lda_kmeans"
        and "lda_kmeans" not in initialization.start_names(params["init"])
    ):
        raise ValueError(f"nn_start lda_kmeans needs an init that runs it, not {params['init']!r}")
    if int(params["d"]) >= int(params["k"]):
        raise ValueError(f"d = {params['d']} must be <= K - 1 = {int(params['k']) - 1} (brief §7)")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run needs at least one seed")
    from threadpoolctl import threadpool_limits

    import sklearn.cluster  # noqa: F401 - load OpenMP before capping it

    if params["nn"]:
        import torch

        torch.set_num_threads(threads)
    cache: dict = {}  # the real data set, read once for all seeds
    with threadpool_limits(threads):
        outs = [_run_seed(experiment, params, s, key, device, log, cache) for s in seeds]
    return _dataset(outs, seeds, params, experiment)
