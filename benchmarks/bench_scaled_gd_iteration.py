"""Time one ScaledGD iteration of the scaled_gd study against a bare dense numpy reference.

Default size: n1 = n2 = 100, r = 5, c = 5, so m = 5000 and the float64 operator is 400 MB (B = 1).

* ours: `initlab.studies.scaled_gd.algorithms.scaled_gd_step`, the update the solver loop runs,
  plus, separately, the whole solver loop (`scaled_gd`, which also evaluates rel_err) per
  iteration;
* reference: written inline with numpy, exactly one matmul for A, one for its adjoint, and the two
  r x r solves.

Each is repeated (median of ``--repeats`` wall-clock times after one warm-up; ours and the
reference alternate). BLAS threads are
left as they are (set ``OPENBLAS_NUM_THREADS`` in the environment to change them). Prints both
times and the ratio ours / reference, and writes them as JSON to ``--out``.

Run: ``python benchmarks/bench_scaled_gd_iteration.py [--repeats 20] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from initlab import rng
from initlab.studies.scaled_gd import algorithms, initialization, problem


def _median_seconds(fns, repeats: int) -> list[float]:
    """Median wall time of each function; the functions alternate within every repetition so
    that drifts (clock, other load) hit them alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            start = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="n1 = n2 (default 100)")
    parser.add_argument("--r", type=int, default=5, help="rank (default 5)")
    parser.add_argument("--c", type=float, default=5.0, help="m / ((n1 + n2) r) (default 5)")
    parser.add_argument("--kappa", type=float, default=10.0, help="condition number (default 10)")
    parser.add_argument("--eta", type=float, default=0.5, help="step size (default 0.5)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repetitions (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="problem seed (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/scaled_gd_iteration.json"),
        help="JSON output path (default benchmarks/results/scaled_gd_iteration.json)",
    )
    args = parser.parse_args(argv)

    n, r, eta = args.n, args.r, args.eta
    m = problem.num_measurements(args.c, n, n, r)
    key = ("bench_scaled_gd_iteration", args.seed)
    a = problem.gaussian_operator([rng.generator(*key, "operator")], m, n, n)
    sigma = problem.singular_values(r, args.kappa)
    x_star = problem.ground_truth(rng.generator(*key, "truth"), n, n, sigma)[2][None]
    y = problem.forward(a, x_star)
    left, right = initialization.spectral_init(a, y, (n, n), r)

    def ours():
        return algorithms.scaled_gd_step(a, y, left, right, eta=eta)

    loop_iters = 5

    def ours_loop():
        return algorithms.scaled_gd(a, y, x_star, left, right, eta=eta, eps=0.0, t_max=loop_iters)

    a2, y2, l2, r2 = a[0], y[0], left[0], right[0]

    def reference():
        res = a2 @ (l2 @ r2.T).ravel() - y2
        z = (a2.T @ res).reshape(n, n)
        new_l = l2 - eta * np.linalg.solve(r2.T @ r2, (z @ r2).T).T
        new_r = r2 - eta * np.linalg.solve(l2.T @ l2, (z.T @ l2).T).T
        return new_l, new_r

    got, want = ours(), reference()
    np.testing.assert_allclose(got[0][0], want[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[1][0], want[1], rtol=1e-9, atol=1e-12)

    t_ours, t_ref, t_loop = _median_seconds([ours, reference, ours_loop], args.repeats)
    t_loop /= loop_iters
    result = {
        "n1": n,
        "n2": n,
        "r": r,
        "c": args.c,
        "m": m,
        "operator_mb": problem.operator_bytes(1, m, n * n) / 1e6,
        "repeats": args.repeats,
        "ours_step_ms": 1e3 * t_ours,
        "reference_step_ms": 1e3 * t_ref,
        "ratio_ours_over_reference": t_ours / t_ref,
        "ours_loop_ms_per_iteration": 1e3 * t_loop,
        "ratio_loop_over_reference": t_loop / t_ref,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }
    print(
        f"ScaledGD iteration, n1=n2={n}, r={r}, m={m} ({result['operator_mb']:.0f} MB operator), "
        f"median of {args.repeats}:\n"
        f"  ours (scaled_gd_step)      {result['ours_step_ms']:8.2f} ms\n"
        f"  reference (inline numpy)   {result['reference_step_ms']:8.2f} ms\n"
        f"  ratio ours / reference     {result['ratio_ours_over_reference']:8.3f}\n"
        f"  ours, solver loop per iter {result['ours_loop_ms_per_iteration']:8.2f} ms "
        f"(ratio {result['ratio_loop_over_reference']:.3f}; includes rel_err)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
