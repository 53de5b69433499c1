"""Time one layer of the homogenized_transformers particle system for n tokens and H heads,
batched against per-head loops, and fit how its cost grows with the number of tokens n.

Four implementations of the same layer (direct sampler, w = 1, c_H = 1), fed the same standard
normals and checked to agree to 1e-12:

* ours: `initlab.studies.homogenized_transformers.model.layer`, the code the experiments run:
  every matmul batched over the seeds, a Python loop over heads, Q, K and V of a head in one
  matmul;
* batched: seeds *and* heads in one batch of matmuls (one call per operation);
* per-head loop: batched over seeds, three matmuls per head;
* naive: one 2-D pass per (seed, head), the way one would first write it.

Two shapes by default: the A2 homogenisation runs (n = d = 8, H = 16, 400 seeds) and a wider one
(n = 16, d = 64, H = 8, 16 seeds). Times are medians of ``--repeats`` alternating runs after a
warm-up. Then ours is timed for n in ``--ns`` at fixed d, H and seeds, and the exponent of
time ~ n^k is fitted by least squares on log-log (for n > d the n^2 d matmuls and the n^2
softmax dominate, so k tends to 2; small n is overhead-bound). BLAS threads are left as they are
(set ``OPENBLAS_NUM_THREADS=1`` to match the workflow jobs). Prints the numbers and writes them
as JSON to ``--out``.

Run: ``python benchmarks/bench_homogenized_transformers_layer.py [--repeats 15] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from initlab import rng
from initlab.studies.homogenized_transformers import model
from initlab.studies.homogenized_transformers.initialization import uniform


def _median_seconds(fns, repeats: int) -> list[float]:
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def batched_layer(x, z, *, beta, eta):
    """One layer (direct sampler, w = 1, c_H = 1) with the heads batched too: every matmul runs
    over (seed, head) at once; x (S, n, d), z (S, H, 3, d, d)."""
    d = x.shape[-1]
    s = 1.0 / math.sqrt(d)
    xt = np.swapaxes(x, -1, -2)[:, None]  # (S, 1, d, n)
    qx, kx, vx = (s * (z[:, :, k] @ xt) for k in range(3))  # (S, H, d, n)
    a = model.softmax(beta * math.sqrt(d) * (np.swapaxes(qx, -1, -2) @ kx))
    f = np.swapaxes((vx @ np.swapaxes(a, -1, -2)).sum(axis=1), -1, -2)
    y = x + eta * f
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def per_head_layer(x, z, *, beta, eta):
    """The same layer looping over heads, three matmuls per head; x (S, n, d), z (S, H, 3, d, d)."""
    d = x.shape[-1]
    s = 1.0 / math.sqrt(d)
    xt = np.swapaxes(x, -1, -2)
    f = np.zeros_like(x)
    for h in range(z.shape[1]):
        qx, kx, vx = (s * (z[:, h, k] @ xt) for k in range(3))
        a = model.softmax(beta * math.sqrt(d) * (np.swapaxes(qx, -1, -2) @ kx))
        f += np.swapaxes(vx @ np.swapaxes(a, -1, -2), -1, -2)
    y = x + eta * f
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def naive_layer(x, z, *, beta, eta):
    """The same layer with one 2-D pass per (seed, head)."""
    d = x.shape[-1]
    s = 1.0 / math.sqrt(d)
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        f = np.zeros_like(x[i])
        for h in range(z.shape[1]):
            q, k, v = (s * z[i, h, j] for j in range(3))
            scores = beta * math.sqrt(d) * (x[i] @ q.T) @ (k @ x[i].T)
            scores -= scores.max(axis=1, keepdims=True)
            a = np.exp(scores)
            a /= a.sum(axis=1, keepdims=True)
            f += a @ x[i] @ v.T
        y = x[i] + eta * f
        out[i] = y / np.linalg.norm(y, axis=1, keepdims=True)
    return out


def compare(n: int, d: int, heads: int, seeds: int, beta: float, repeats: int) -> dict:
    """Median ms of the four implementations at one shape, and their ratios to ours."""
    g = rng.generator("bench_homogenized_transformers_layer", n, d, heads, seeds)
    x = np.stack([uniform(g, n, d) for _ in range(seeds)])
    z = g.standard_normal((seeds, *model.normal_shape(n, d, heads, "direct")))
    kw = dict(beta=beta, eta=0.05)
    fns = {
        "ours": lambda: model.layer(x, z, **kw),
        "batched": lambda: batched_layer(x, z, **kw),
        "per_head_loop": lambda: per_head_layer(x, z, **kw),
        "naive": lambda: naive_layer(x, z, **kw),
    }
    want = fns["ours"]()
    for name, fn in fns.items():
        np.testing.assert_allclose(fn(), want, atol=1e-12, err_msg=name)
    times = dict(zip(fns, _median_seconds(list(fns.values()), repeats)))
    out = {"n": n, "d": d, "heads": heads, "seeds": seeds}
    out.update({f"{k}_ms": 1e3 * v for k, v in times.items()})
    out.update({f"ratio_{k}_over_ours": v / times["ours"] for k, v in times.items() if k != "ours"})
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shapes", nargs="+", default=["8,8,16,400", "16,64,8,16"],
        help="n,d,H,seeds of each comparison (default: 8,8,16,400 16,64,8,16)",
    )  # fmt: skip
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--ns", type=int, nargs="+", default=[16, 32, 64, 128, 256], help="n for the scaling fit")
    parser.add_argument("--scaling-d", type=int, default=16, help="d for the scaling fit (default 16)")
    parser.add_argument("--scaling-heads", type=int, default=1, help="H for the scaling fit (default 1)")
    parser.add_argument("--scaling-seeds", type=int, default=16, help="seeds for the scaling fit (default 16)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/homogenized_transformers_layer.json"))
    args = parser.parse_args(argv)

    comparisons = []
    for shape in args.shapes:
        n, d, heads, seeds = (int(v) for v in shape.split(","))
        comparisons.append(compare(n, d, heads, seeds, args.beta, args.repeats))

    scaling = []
    kw = dict(beta=args.beta, eta=0.05)
    for n in args.ns:
        gx = rng.generator("bench_homogenized_transformers_layer", "scaling", n)
        xs = np.stack([uniform(gx, n, args.scaling_d) for _ in range(args.scaling_seeds)])
        shape = model.normal_shape(n, args.scaling_d, args.scaling_heads, "direct")
        zs = gx.standard_normal((args.scaling_seeds, *shape))
        (t,) = _median_seconds([lambda xs=xs, zs=zs: model.layer(xs, zs, **kw)], max(3, args.repeats // 3))
        scaling.append({"n": n, "ms": 1e3 * t})
    logn = np.log([r["n"] for r in scaling])
    logt = np.log([r["ms"] for r in scaling])
    exponent = float(np.polyfit(logn, logt, 1)[0])
    tail = float(np.polyfit(logn[-3:], logt[-3:], 1)[0]) if len(scaling) >= 3 else float("nan")

    result = {
        "comparisons": comparisons,
        "repeats": args.repeats,
        "scaling_d": args.scaling_d,
        "scaling_heads": args.scaling_heads,
        "scaling_seeds": args.scaling_seeds,
        "scaling": scaling,
        "exponent_time_vs_n": exponent,
        "exponent_last_three_n": tail,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }
    for c in comparisons:
        print(
            f"One layer, n={c['n']}, d={c['d']}, H={c['heads']}, {c['seeds']} seeds, median of "
            f"{args.repeats}:\n"
            f"  ours (seeds batched, loop over heads)  {c['ours_ms']:8.2f} ms\n"
            f"  batched over seeds and heads           {c['batched_ms']:8.2f} ms  (x{c['ratio_batched_over_ours']:.2f})\n"
            f"  per-head loop, 3 matmuls per head      {c['per_head_loop_ms']:8.2f} ms  (x{c['ratio_per_head_loop_over_ours']:.2f})\n"
            f"  naive (seed, head) loop                {c['naive_ms']:8.2f} ms  (x{c['ratio_naive_over_ours']:.2f})"
        )
    print(
        f"Cost of ours against n (d={args.scaling_d}, H={args.scaling_heads}, {args.scaling_seeds} seeds): "
        + ", ".join(f"n={r['n']}: {r['ms']:.2f} ms" for r in scaling)
        + f"\n  fitted exponent time ~ n^{exponent:.2f} (last three n: n^{tail:.2f})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
