"""profiles/slurm on a real single-node SLURM: same results as a local run, and failed jobs retried.

A session fixture starts munged, slurmctld and slurmd on this machine (tests/slurm/start_cluster.sh;
install the Debian packages with tests/slurm/install.sh) and stops them at the end. The workflow
runs in copies of the checkout with the unchanged user profile; the command line adds only what
our test cluster needs: an account and partition, `--slurm-status-command squeue` (no slurmdbd,
so no sacct) and short status-check intervals.
Without the SLURM binaries the cluster tests skip; the profile's dry-run test runs everywhere.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import SNAKEMAKE, copy_checkout
from initlab import results
from initlab.studies import STUDIES

pytestmark = pytest.mark.workflow

HERE = Path(__file__).resolve().parent / "slurm"
BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "srun"]
PARTITION = "debug"
SMOKE = ["--configfile", "configs/smoke.yaml"]
# Provenance and measured times differ between any two runs of the same config, local or not.
PROVENANCE = {"run_device", "run_git_commit", "run_wall_seconds"}
TIMINGS = re.compile(r"(_s|_seconds)$")  # e.g. scaled_gd's cpu_s (CPU seconds per run)
SECONDS = re.compile(r"\b\d+(\.\d+)?(e[-+]?\d+)? s\b")  # "0.009 s" in a claim's detail text
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


def _which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _env(**extra):
    """This process's environment without SLURM_* (a job context or another cluster's config)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def run_snakemake(*args, cwd, env=None, timeout=600):
    """``snakemake <args>`` in ``cwd``; returns (completed process with stdout+stderr, seconds)."""
    start = time.monotonic()
    proc = subprocess.run(
        [*SNAKEMAKE, *args],
        cwd=cwd,
        env=env or _env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - start
    assert (
        proc.returncode == 0
    ), f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-8000:]}"
    return proc, seconds


def slurm_args(repo):
    """What our test cluster adds to `--profile profiles/slurm`.

    `--default-resources` on the command line replaces the profile's whole block, so the profile's
    own values are repeated with the placeholders swapped for this cluster's account and partition.
    """
    profile = yaml.safe_load((repo / "profiles/slurm/config.yaml").read_text())
    resources = {
        **profile["default-resources"],
        "slurm_account": "none",
        "slurm_partition": PARTITION,
    }
    return [
        "--profile",
        "profiles/slurm",
        "--default-resources",
        *(f"{k}={v}" for k, v in resources.items()),
        # Our node has 2 CPUs, fewer than the profile's cores. The plugin runs a group's jobs
        # one after another anyway, so 1-CPU group jobs run two at a time here.
        "--cores",
        "1",
        "--slurm-status-command",
        "squeue",
        # The plugin waits 40 s after each finished job before it looks again: fine on a cluster,
        # most of the test's time here.
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "1",
    ]


def job_states():
    """{SLURM job id: state} of every job slurmctld still knows (for MinJobAge, 1800 s here)."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%T"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return dict(line.split("|", 1) for line in out.split())


def assert_same_data(a, b, where):
    """Every data variable (but provenance) and coordinate of two datasets is identical."""
    assert set(a.data_vars) == set(b.data_vars), where
    assert set(a.coords) == set(b.coords), where
    for name in a.coords:
        assert a[name].equals(b[name]), f"{where}: coordinate {name} differs"
    compared = sorted(v for v in set(a.data_vars) - PROVENANCE if not TIMINGS.search(v))
    assert compared, f"{where}: no data variables to compare"
    for name in compared:
        # DataArray.equals compares values exactly (not allclose), NaN equal to NaN.
        assert a[name].equals(b[name]), f"{where}: {name} differs"


def assert_same_study_file(a_path, b_path):
    """Both study files (one netCDF group per experiment) hold the same experiments and data."""
    a, b = results.load_study(a_path), results.load_study(b_path)
    assert sorted(a) == sorted(b)
    for experiment in a:
        assert_same_data(a[experiment], b[experiment], f"{a_path.name}/{experiment}")


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    missing = [b for b in BINARIES if not _which(b)]
    if missing:
        pytest.skip(
            f"SLURM is not installed (missing {', '.join(missing)}); run tests/slurm/install.sh"
        )
    if os.geteuid() != 0:
        pytest.skip("the test cluster's daemons run as root; run the SLURM tests as root")
    state = tmp_path_factory.mktemp("slurm-cluster")
    try:
        start = subprocess.run(
            ["bash", str(HERE / "start_cluster.sh"), str(state)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if start.returncode == 3:
            pytest.skip(f"not starting a test cluster on a SLURM machine: {start.stderr.strip()}")
        assert (
            start.returncode == 0
        ), f"the test cluster did not start:\n{start.stdout}\n{start.stderr}"
        yield state
    finally:
        subprocess.run(["bash", str(HERE / "stop_cluster.sh"), str(state)], env=_env(), timeout=120)


@pytest.fixture(scope="session")
def local_run(tmp_path_factory):
    """The reference: a local run (2 cores) of what the comparisons read."""
    repo = copy_checkout(tmp_path_factory.mktemp("local"))
    _, seconds = run_snakemake(
        "--cores",
        "2",
        *SMOKE,
        "--",
        "results/scaled_gd/scaled_gd.nc",
        "results/scaled_gd/claims.csv",
        cwd=repo,
    )
    print(f"local run (runs, aggregate, claims): {seconds:.1f} s")
    return repo


@pytest.fixture(scope="session")
def slurm_run(slurm_cluster, tmp_path_factory):
    """The smoke run of two studies, sent to the test cluster through profiles/slurm, whose first SLURM job
    fails once: an sbatch stand-in first on PATH (tests/slurm/sbatch_fail_once.sh) swaps that
    job's command for `exit 1`. A real SLURM job failure, with the pipeline's code untouched.
    One run serves both tests below: a second one would add a minute of polling and job starts."""
    tmp = tmp_path_factory.mktemp("slurm-run")
    repo = copy_checkout(tmp / "checkout")
    shim = tmp / "bin"
    shim.mkdir()
    (shim / "sbatch").write_text(f'#!/bin/sh\nexec bash "{HERE / "sbatch_fail_once.sh"}" "$@"\n')
    (shim / "sbatch").chmod(0o755)
    marker = tmp / "failed-once"
    env = _env(
        PATH=f"{shim}{os.pathsep}{os.environ['PATH']}",
        REAL_SBATCH=_which("sbatch"),
        FAIL_ONCE_MARKER=str(marker),
    )
    # Two studies keep the polling run within minutes: scaled_gd (compared with the local run)
    # and distributed_clustering, whose points read prepared data (data stages on SLURM too).
    sent = ("scaled_gd", "distributed_clustering")
    only = tmp / "slurm_studies.yaml"
    only.write_text(yaml.safe_dump({"studies": {s: {"enabled": s in sent} for s in STUDIES}}))
    proc, seconds = run_snakemake(*slurm_args(repo), *SMOKE, str(only), cwd=repo, env=env)
    print(f"SLURM run (smoke config, {' and '.join(sent)}, one job failing once): {seconds:.1f} s")
    return repo, proc.stdout, marker


def test_slurm_profile_resolves_account_partition_and_groups(tmp_path):
    """Dry run: the slurm profile's account and partition reach every job (a default-resources key
    in profiles/default would replace them), per-rule sizes still come from profiles/default, and
    the sweep points are bundled into group jobs."""
    repo = copy_checkout(tmp_path)
    slurm = yaml.safe_load((repo / "profiles/slurm/config.yaml").read_text())
    default = yaml.safe_load((repo / "profiles/default/config.yaml").read_text())
    out = run_snakemake("-n", "--profile", "profiles/slurm", *SMOKE, cwd=repo)[0].stdout
    jobs = re.findall(r"^\s*(?:local)?rule (\w+):\n(?:.*\n)*?\s*resources: (.*)$", out, re.M)
    assert jobs, out[-3000:]
    for rule, resources in jobs:
        res = dict(kv.split("=", 1) for kv in resources.split(", "))
        expected = {**slurm["default-resources"], **default["set-resources"].get(rule, {})}
        assert {k: res.get(k) for k in expected} == {k: str(v) for k, v in expected.items()}, rule
    n_points = sum(rule == "scaled_gd_run" for rule, _ in jobs)
    per_group = slurm["group-components"]["scaled_gd_points"]
    assert n_points > per_group  # the smoke sweep makes more than one group
    assert out.count("Group job scaled_gd_points") == -(-n_points // per_group)


def test_slurm_profile_keys_survive_and_cores_cover_every_rules_threads(root):
    """`cores` caps threads: below a rule's set-threads, that rule would silently get fewer."""
    slurm = yaml.safe_load((root / "profiles/slurm/config.yaml").read_text())
    default = yaml.safe_load((root / "profiles/default/config.yaml").read_text())
    threads = default.get("set-threads") or {}
    assert slurm["cores"] >= max(threads.values(), default=1), threads
    # A key in both profiles is taken from profiles/default whole: the slurm profile's is lost.
    assert not set(slurm) & set(default), set(slurm) & set(default)


def test_smoke_run_on_slurm_matches_a_local_run_bit_for_bit(slurm_run, local_run):
    repo, log, _ = slurm_run
    states = job_states()
    submitted = [
        (jobid, path) for _, jobid, path in SUBMITTED.findall(log) if states.get(jobid) != "FAILED"
    ]
    assert submitted, f"no job was submitted to SLURM:\n{log[-4000:]}"
    # Sweep points went in group jobs, the figures in a job of their own; aggregate, claims and
    # report are localrules and ran here.
    assert sum("/group_scaled_gd_points" in path for _, path in submitted) >= 1, submitted
    assert sum("/rule_scaled_gd_figures/" in path for _, path in submitted) == 1, submitted
    assert not re.search(r"^localrule scaled_gd_(run|figures):", log, re.M)
    for jobid, _ in submitted:
        assert states.get(jobid) == "COMPLETED", (jobid, states)
    assert (repo / "results/report/index.html").is_file()

    assert_same_study_file(
        repo / "results/scaled_gd/scaled_gd.nc", local_run / "results/scaled_gd/scaled_gd.nc"
    )
    # Every column of every claim, measured values as written; only times quoted in the free-text
    # detail (CPU seconds per run) are masked.
    slurm_claims, local_claims = (
        pd.read_csv(r / "results/scaled_gd/claims.csv", dtype=str, keep_default_na=False)
        for r in (repo, local_run)
    )
    for claims in (slurm_claims, local_claims):
        claims["detail"] = claims["detail"].str.replace(SECONDS, "<t> s", regex=True)
    pd.testing.assert_frame_equal(slurm_claims, local_claims, check_exact=True)


def test_a_job_that_fails_once_is_retried_and_the_run_completes(slurm_run):
    """The profile's retries resubmit the SLURM job that failed, and the run completes (its
    results are checked against the local run above)."""
    repo, log, marker = slurm_run
    assert marker.is_dir(), "the sbatch stand-in was not used"
    submitted = SUBMITTED.findall(log)  # (Snakemake job, SLURM job id, SLURM log)
    states = job_states()
    failed = [sub for sub in submitted if states.get(sub[1]) == "FAILED"]
    assert len(failed) == 1, (submitted, states)
    job, failed_id, failed_log = failed[0]
    assert "injected failure" in Path(failed_log).read_text()  # the plugin keeps failed jobs' logs
    assert f"Trying to restart job {job}." in log
    # The same Snakemake job went in again and completed; so did every other SLURM job.
    retried = [slurm_id for name, slurm_id, _ in submitted if name == job and slurm_id != failed_id]
    assert len(retried) == 1 and states.get(retried[0]) == "COMPLETED", (retried, states)
    assert all(
        states.get(slurm_id) == "COMPLETED" for _, slurm_id, _ in submitted if slurm_id != failed_id
    )
    assert (repo / "results/report/index.html").is_file()
