"""Wall time of one study's quick-scale run through the real Snakemake, from a clean results dir.

Runs ``snakemake --cores N <study targets>`` in a fresh copy of the checkout and reports the wall
time next to the summed job times from the ``benchmark:`` files, so their ratio shows how well
the jobs used the cores. Usage:

    .venv/bin/python benchmarks/quick_study_walltime.py --study scaled_gd --cores 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from conftest import copy_checkout  # noqa: E402
from initlab.report import load_benchmarks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="scaled_gd")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", action="append", default=[], help="extra config overrides")
    parser.add_argument("--out", help="JSON path (default: benchmarks/results/quick_<study>_walltime.json)")
    args = parser.parse_args()
    out = Path(args.out or ROOT / f"benchmarks/results/quick_{args.study}_walltime.json")

    with tempfile.TemporaryDirectory() as tmp:
        repo = copy_checkout(Path(tmp))
        target = f"results/{args.study}/claims.csv"
        figures = f"results/{args.study}/bench/figures.tsv"
        cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), target, figures]
        for c in args.configfile:
            cmd += ["--configfile", str(Path(c).resolve())]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=repo, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - start
        bench = load_benchmarks(sorted((repo / "results" / args.study / "bench").rglob("*.tsv")))
        verdicts = subprocess.run(
            [sys.executable, "-c", f"import pandas as pd; print(pd.read_csv('{target}')['verdict'].value_counts().to_dict())"],
            cwd=repo,
            capture_output=True,
            text=True,
        ).stdout.strip()

    jobs_s = float(bench["s"].sum())
    numbers = {
        "study": args.study,
        "cores": args.cores,
        "wall_s": round(wall, 1),
        "jobs": int(len(bench)),
        "sum_of_job_s": round(jobs_s, 1),
        "parallel_speedup": round(jobs_s / wall, 2),
        "per_rule_s": {k: round(v, 1) for k, v in bench.groupby("rule")["s"].sum().items()},
        "verdicts": verdicts,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
