"""Where a number came from: the device, the code version and the package versions."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import subprocess
from functools import lru_cache

__all__ = ["cpu_name", "describe_device", "git_commit", "package_versions", "resolve_device"]

#: Packages whose versions the report lists (those installed).
PACKAGES = (
    "initlab",
    "numpy",
    "scipy",
    "xarray",
    "netCDF4",
    "pandas",
    "matplotlib",
    "torch",
    "scikit-learn",
    "rdkit",
    "pooch",
    "snakemake",
    "snakemake-executor-plugin-slurm",
)


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU model as the OS reports it, with the number of cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name} ({len(os.sched_getaffinity(0))} cores available)"


def resolve_device(requested: str = "auto") -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without one is an error."""
    if requested not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {requested!r}")
    if requested == "cpu":
        return "cpu"
    has_cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch

        has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise RuntimeError("device 'cuda' was requested but torch sees no CUDA device")
    return "cuda" if has_cuda else "cpu"


def describe_device(device: str) -> str:
    """A human name for ``device``: the GPU's name for ``cuda``, the CPU model for ``cpu``."""
    if device == "cuda":
        import torch

        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {cpu_name()}"


@lru_cache(maxsize=1)
def git_commit() -> str:
    """``HEAD``'s commit of the checkout that holds this package, ``+dirty`` when it has local
    changes, or ``unknown`` outside a git checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def package_versions() -> dict[str, str]:
    """Installed versions of `PACKAGES` (missing ones are left out)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out
