"""Speed of the quadratic_escape one-pass SGD simulator and of one overlap-ODE solve.

SGD (default: the E1 point, N = 2000, p = 4, p* = 2, three seeds, gamma = 0.1):

* ours: `initlab.studies.quadratic_escape.sgd.one_pass_sgd`, seeds batched, samples drawn in
  blocks and applied through the block's Gram matrix, overlaps recorded every N/5 steps;
* baseline: a straightforward numpy loop, one seed after the other, one
  ``standard_normal(N)`` and one `sgd_step` per sample, the same recording;
* floor: drawing the same Gaussian samples alone (in blocks), the cost no simulator avoids.

Rates are samples (SGD steps, summed over seeds) per second, from the median wall time of
``--repeats`` runs after a warm-up; the baseline runs ``--baseline-steps`` steps per seed. Both
start from the same weights with the same per-seed generators, and their final overlaps are
checked to agree.

ODE: `initlab.studies.quadratic_escape.ode.solve` (LSODA, rtol 1e-9, atol 1e-12, the gamma^2 term)
from Q0 = I, M0 = G / sqrt(N) at N = 1e4 over t in [0, 150] on 3001 points (the E3 setting), for
p = 4 and p = 16; median seconds per solve.

BLAS threads are left as they are (set ``OPENBLAS_NUM_THREADS=1`` for the single-core numbers).

Run: ``python benchmarks/bench_quadratic_escape_sgd.py [--repeats 3] [--out PATH]``
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
from initlab.studies.quadratic_escape import model, ode, sgd
from initlab.studies.quadratic_escape.initialization import gaussian_students, isotropic_overlaps


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--N", type=int, default=2000, help="input dimension (default 2000)")
    parser.add_argument("--p", type=int, default=4, help="student width (default 4)")
    parser.add_argument("--pstar", type=int, default=2, help="teacher width (default 2)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds batched together (default 3)")
    parser.add_argument(
        "--steps", type=int, default=20000, help="SGD steps per seed, ours (default 20000)"
    )
    parser.add_argument(
        "--baseline-steps", type=int, default=4000, help="steps per seed, baseline (default 4000)"
    )
    parser.add_argument("--block", type=int, default=32, help="block size of ours (default 32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (default 3)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/quadratic_escape_sgd.json"),
        help="JSON output path (default benchmarks/results/quadratic_escape_sgd.json)",
    )
    args = parser.parse_args(argv)
    N, p, pstar, S = args.N, args.p, args.pstar, args.seeds
    a, b, gamma = 1.0 / p, 1.0 / pstar, 0.1
    record_every = N // 5
    key = ("bench_quadratic_escape_sgd",)
    Wstar = np.stack([model.teacher(rng.generator(*key, "teacher", s), pstar, N) for s in range(S)])
    W0 = np.stack([gaussian_students(rng.generator(*key, "init", s), p, N, 1.0) for s in range(S)])

    def ours(steps=args.steps):
        return sgd.one_pass_sgd(
            W0,
            Wstar,
            a=a,
            b=b,
            gamma=gamma,
            steps=steps,
            record_every=record_every,
            sample_rngs=[rng.generator(*key, "samples", s) for s in range(S)],
            block=args.block,
        )

    def baseline(steps=args.baseline_steps):
        Q = []
        for s in range(S):
            g = rng.generator(*key, "samples", s)
            W = W0[s].copy()
            for step in range(1, steps + 1):
                W = sgd.sgd_step(W, Wstar[s], g.standard_normal(N), a=a, b=b, gamma=gamma)
                if step % record_every == 0:
                    Q.append(model.overlaps(W, Wstar[s])[0])
        return W, Q

    def floor(steps=args.steps):
        X = np.empty((args.block, N))
        gens = [rng.generator(*key, "samples", s) for s in range(S)]
        for _ in range(0, steps, args.block):
            for g in gens:
                g.standard_normal(out=X)

    # the two simulators agree on the same samples
    check = ours(steps=args.baseline_steps)
    W_last, _ = baseline()
    np.testing.assert_allclose(check.Q[-1, -1], model.overlaps(W_last, Wstar[-1])[0], atol=1e-10)

    t_ours = _median_seconds(ours, args.repeats)
    t_base = _median_seconds(baseline, args.repeats)
    t_floor = _median_seconds(floor, args.repeats)
    rate_ours = S * args.steps / t_ours
    rate_base = S * args.baseline_steps / t_base
    rate_floor = S * args.steps / t_floor

    ode_seconds = {}
    for width in (4, 16):
        G = rng.generator(*key, "G", width).standard_normal((width, pstar))
        Q0, M0 = isotropic_overlaps(G, 1e4, 1.0, 1.0)
        times = np.linspace(0.0, 150.0, 3001)
        ode_seconds[width] = _median_seconds(
            lambda: ode.solve(Q0, M0, times, a=1.0 / width, b=b, gamma=gamma), args.repeats
        )

    result = {
        "N": N,
        "p": p,
        "pstar": pstar,
        "seeds": S,
        "block": args.block,
        "steps_ours": args.steps,
        "steps_baseline": args.baseline_steps,
        "ours_samples_per_s": rate_ours,
        "baseline_samples_per_s": rate_base,
        "rng_floor_samples_per_s": rate_floor,
        "speedup_ours_over_baseline": rate_ours / rate_base,
        "ours_over_rng_floor_time": rate_floor / rate_ours,
        "ours_us_per_step_all_seeds": 1e6 * t_ours / args.steps,
        "ode_solve_s_p4": ode_seconds[4],
        "ode_solve_s_p16": ode_seconds[16],
        "repeats": args.repeats,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }
    print(
        f"one-pass SGD, N={N}, p={p}, p*={pstar}, {S} seeds, median of {args.repeats}:\n"
        f"  ours (batched, blocks of {args.block})   {rate_ours:12.0f} samples/s "
        f"({result['ours_us_per_step_all_seeds']:.1f} us per step of all seeds)\n"
        f"  baseline (plain numpy loop)      {rate_base:12.0f} samples/s\n"
        f"  Gaussian draws alone (floor)     {rate_floor:12.0f} samples/s\n"
        f"  speed-up ours / baseline         {result['speedup_ours_over_baseline']:12.2f}\n"
        f"  ours time / RNG-floor time       {result['ours_over_rng_floor_time']:12.2f}\n"
        f"overlap ODE, t in [0, 150], 3001 points, LSODA 1e-9/1e-12:\n"
        f"  p=4  {ode_seconds[4]:.3f} s per solve\n"
        f"  p=16 {ode_seconds[16]:.3f} s per solve"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
