"""Time one MGMM fit (the linear family) against scikit-learn's GaussianMixture on the same
whitened PCA features, as a ratio.

Cases: the quick size (5,000 MNIST test images, p = 10, K = 10, d = 9: one subset of the quick
study) and full 70k MNIST (read from ``data/prepared/mnist/full.nc``; skipped with a notice when
that file is absent; build it with ``snakemake --cores 2 data_mnist_full --configfile
configs/mnist_mirror.yaml``).

* ours: `initlab.studies.manifold_gmm.algorithm.fit` from the lda-kmeans start, one start,
  60 outer iterations (E-step, M-step, three Riemannian Armijo steps), eta_0 = 0.3, eps = 1e-3,
  the quick study's settings; the start (k-means + LDA) is built once, outside the timing.
* reference: ``GaussianMixture(K, 'full', reg_covar=1e-3, n_init=1, random_state=0)`` on the same
  p-dim whitened features (its own k-means initialisation is inside its timing, as a user would
  run it; default tol 1e-3, max_iter 100).

Both single-threaded (threadpoolctl). Median wall time of ``--repeats`` alternated runs (one run
at 70k); writes JSON to ``--out`` with the times, the ratio MGMM / GMM, GMM's iteration count and
both ACC values (a sanity check, not a comparison of methods).

Run: ``python benchmarks/bench_manifold_gmm_vs_sklearn.py [--repeats 3] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from initlab import rng
from initlab.data import artefact
from initlab.studies.manifold_gmm import algorithm, initialization, metrics, preprocessing

FULL = Path("data/prepared/mnist/full.nc")


def case(name, x, y, repeats, p=10, d=9, k=10):
    xw, _ = preprocessing.whiten(x, p)
    labels = KMeans(k, n_init=10, random_state=0).fit_predict(x)
    start = initialization.initial_starts(
        xw,
        ["lda_kmeans"],
        k=k,
        d=d,
        eps=1e-3,
        random_state=0,
        rng=rng.generator("bench"),
        lda_labels=labels,
    )
    out = {}

    def ours():
        out["mgmm"] = algorithm.fit(xw, start.w, start.mix, eta0=0.3, outer_iters=60)

    def ref():
        out["gmm"] = GaussianMixture(
            k, covariance_type="full", reg_covar=1e-3, n_init=1, random_state=0
        ).fit(xw)

    times = {"mgmm": [], "gmm": []}
    for _ in range(repeats):
        for key, fn in (("mgmm", ours), ("gmm", ref)):
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    t_m, t_g = statistics.median(times["mgmm"]), statistics.median(times["gmm"])
    return {
        "case": name, "n": len(x), "D": x.shape[1], "p": p, "d": d, "K": k, "repeats": repeats,
        "mgmm_s": t_m, "gmm_s": t_g, "ratio_mgmm_over_gmm": t_m / t_g,
        "mgmm_outer_iters": 60, "gmm_n_iter": int(out["gmm"].n_iter_),
        "mgmm_acc": metrics.hungarian_accuracy(y, out["mgmm"].labels[0]),
        "gmm_acc": metrics.hungarian_accuracy(y, out["gmm"].predict(xw)),
    }  # fmt: skip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/manifold_gmm_vs_sklearn.json")
    args = ap.parse_args()
    rows = []
    with threadpool_limits(1):
        test = artefact("mnist/test", missing="build")
        idx = np.sort(
            rng.generator("bench", "manifold_gmm", "subset").choice(
                test.sizes["sample"], 5000, replace=False
            )
        )
        rows.append(
            case("quick: MNIST 5k", test["x"].values[idx], test["label"].values[idx], args.repeats)
        )
        if FULL.is_file():
            full = artefact("mnist/full")
            rows.append(case("paper: MNIST 70k", full["x"].values, full["label"].values, 1))
        else:
            print(f"70k case skipped: {FULL} does not exist (snakemake --cores 2 data_mnist_full "
                  "--configfile configs/mnist_mirror.yaml)")  # fmt: skip
    for r in rows:
        print(f"{r['case']} (n={r['n']}, p={r['p']}, d={r['d']}, K={r['K']}): MGMM {r['mgmm_s']:.2f} s "
              f"(60 outer iterations, ACC {r['mgmm_acc']:.3f}), GaussianMixture {r['gmm_s']:.2f} s "
              f"({r['gmm_n_iter']} EM iterations, ACC {r['gmm_acc']:.3f}), ratio {r['ratio_mgmm_over_gmm']:.1f}x")  # fmt: skip
    out = {"machine": platform.processor() or platform.machine(), "threads": 1, "cases": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
