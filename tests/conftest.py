"""Shared fixtures: the repository root and a way to run the real Snakemake."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd, check=True, timeout=900):
    """Run ``snakemake <args>`` in ``cwd``; return the completed process (stdout+stderr merged)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [*SNAKEMAKE, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


def copy_checkout(dest: Path) -> Path:
    """Copy the working tree's tracked and untracked-but-not-ignored files (no results, no venv)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture
def build_missing_artefacts(monkeypatch):
    """Outside the workflow, prepared artefacts that are not on disk are built in memory."""
    import initlab.data

    monkeypatch.setattr(initlab.data, "MISSING", "build")
