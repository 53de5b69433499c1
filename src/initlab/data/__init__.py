"""Datasets: fetched once, verified, prepared and cached, shared by every study.

One loader interface, `load`, returns an `xarray.Dataset` built in memory with the same variables
as the prepared artefact of that name (tabular sets: ``x`` (sample, feature) float64 and
``label`` (sample) int64; molecules: ``X``, ``E``, ``mask``, ``smiles`` ...), with the provenance
attributes of `initlab.data.prepared`:

>>> load("iris")                      # scikit-learn's bundled copy, 150 x 4, raw
>>> load("digits")                    # 1797 x 64, pixel counts / 16 (scale=False: raw)
>>> load("mnist")                     # the 10k test split shipped in data/shipped/mnist
>>> load("mnist", subset="full", mirror="../shared/data/mnist")   # 70k, from a local mirror
>>> load("qm9", subset=1000)          # 1000 QM9 molecules as graph tensors (rdkit; qm9pack, or
...                                   # the CSVs rule qm9_fetch put in data/raw/qm9/)

`load` never downloads: downloads are the workflow's ``mnist_fetch`` and ``qm9_fetch`` rules,
which write the verified files to ``data/raw/`` (where `load` looks). In the workflow, studies read
the prepared files instead (`load_prepared`), which are built once and shared (named targets
``data_offline``, ``data_mnist_full``, ``data_moses``; see data/README.md):

    data/raw/mnist/<file>.gz                     rule mnist_fetch (shipped copy, mirror or download)
    data/raw/qm9/qm9_part{1,2,3}.csv             rule qm9_fetch (qm9pack's wheel, when not installed)
    data/prepared/mnist/{test,train,full}.nc     rule mnist_prepare
    data/prepared/mnist/<subset>_<pca|white><p>_<all|train>.nc   rule mnist_features
    data/prepared/{iris,digits}.nc               rule sklearn_prepare
    data/prepared/qm9.nc                         rule qm9_prepare
    data/prepared/moses/{train,test,test_scaffolds}.nc           rule moses_prepare

Modules: `registry` (checksums, file names, published counts; no numpy, read on every workflow
parse), `idx` (the IDX reader/writer), `fetch` (pooch + mirror + verification), `mnist`,
`features` (PCA / whitening), `sklearn_sets`, `molecules` (RDKit graph tensors), `prepared`
(writing and reading artefacts with provenance). Heavy imports happen inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATASETS", "artefact", "artefact_path", "build_artefact", "load", "load_prepared"]

DATASETS = ("iris", "digits", "mnist", "qm9", "moses")

#: Where the workflow writes prepared artefacts, relative to the working directory of a job.
PREPARED = Path("data/prepared")

#: What `artefact` does when the file is absent: "error" (the workflow, where the file is an
#: input of the job) or "build" (tests and notebooks; tests/conftest.py's `build_missing_artefacts`).
MISSING = "error"


def artefact_path(name: str, root: str | os.PathLike = ".") -> Path:
    """``<root>/data/prepared/<name>.nc`` for an artefact name such as ``mnist/test_pca50_all``."""
    if not name or name.startswith("/") or ".." in Path(name).parts:
        raise ValueError(f"{name!r} is not an artefact name (e.g. iris, mnist/test, qm9)")
    return Path(root) / PREPARED / f"{name}.nc"


def artefact(name: str, *, root: str | os.PathLike = ".", missing: str | None = None):
    """A prepared artefact by name, as a study's experiment reads it.

    A study names the artefacts a sweep point reads in its ``data`` setting (a name or a list);
    the workflow makes ``data/prepared/<name>.nc`` an input of that point's job (``point_data`` in
    workflow/rules/common.smk), so the file is built once and shared by every study and point that
    names it. Outside the workflow (tests, notebooks), ``missing="build"`` (default: the module's
    `MISSING`) builds the artefact in memory with default options instead of failing
    (`build_artefact`).
    """
    missing = MISSING if missing is None else missing
    path = artefact_path(name, root)
    if path.is_file():
        return load_prepared(path)
    if missing == "build":
        return build_artefact(name)
    raise FileNotFoundError(
        f"prepared artefact {path} does not exist; build it with `snakemake --cores 2 {path}` "
        "(in the workflow it is an input of the jobs whose `data` setting names it)"
    )


def build_artefact(name: str):
    """Build artefact ``name`` in memory with default options (what `artefact` reads from disk).

    Names: ``iris``, ``digits``, ``qm9``, ``mnist/<test|train|full>`` and MNIST feature sets
    ``mnist/<subset>_<pca|white><p>_<all|train>`` (see `initlab.data.features`).
    """
    if name.startswith("mnist/"):
        from initlab.data.features import FEATURE_NAME, make_features

        sub = name.removeprefix("mnist/")
        match = FEATURE_NAME.match(sub)
        if match is None:
            return load("mnist", subset=sub)
        spec = match.groupdict()
        images = load("mnist", subset=spec["subset"])
        return make_features(images, spec["kind"], int(spec["components"]), spec["fit"])[0]
    return load(name)


def load_prepared(path: str | os.PathLike, *, lazy: bool = False):
    """Read a prepared artefact (see `initlab.data.prepared.load_prepared`)."""
    from initlab.data.prepared import load_prepared as _load

    return _load(path, lazy=lazy)


def _mnist_file(name: str, raw: Path | None, shipped: Path | None, mirror: Path | None) -> Path:
    """A verified local copy of one MNIST file: data/raw, then the shipped copy, then the mirror."""
    from initlab.data.fetch import verify_file
    from initlab.data.registry import MNIST_FILES

    entry = MNIST_FILES[name]
    candidates = [d / entry.filename for d in (raw, shipped, mirror) if d is not None]
    for path in candidates:
        if path.is_file():
            verify_file(path, entry, origin=str(path))
            return path
    if mirror is not None and not mirror.is_dir():
        raise FileNotFoundError(f"MNIST mirror directory {mirror} does not exist")
    raise FileNotFoundError(
        f"no local copy of {entry.filename} (looked at {[str(c) for c in candidates]}); fetch it with "
        f"`snakemake --cores 1 data/raw/mnist/{entry.filename}` or pass mirror=<folder>"
    )


def load(name: str, **options):
    """Load dataset ``name`` in memory, in its prepared layout. Options per dataset:

    ``iris``, ``digits``: ``scale`` (digits / 16, default True), ``split_seed``, ``test_fraction``.
    ``mnist``: ``subset`` (``test`` default, ``train``, ``full``), ``mirror`` (a folder with the
        canonical ``.gz`` files), ``root`` (the checkout holding ``data/``; default this one),
        ``split_seed``, ``test_fraction``.
    ``qm9``: ``subset`` (molecules to keep, default 1000; None for all), ``seed``, ``train``,
        ``test``, ``max_nodes`` (9), ``threads``.
    ``moses``: ``split`` (``train``, ``test``, ``test_scaffolds``), ``subset`` (default 1000),
        ``seed``, ``max_nodes`` (27), ``threads``.
    """
    import tempfile

    from initlab.data.prepared import load_prepared as _load

    if name in ("iris", "digits"):
        from initlab.data.sklearn_sets import build_sklearn_set

        ds, inputs, counts, source = build_sklearn_set(name, **options)
        return _with_provenance(ds, name, source, inputs, counts, options)
    if name == "mnist":
        from initlab.data.mnist import build_mnist
        from initlab.data.registry import MNIST_SUBSETS, REPO_ROOT, SHIPPED_MNIST

        subset = options.pop("subset", "test")
        root = Path(options.pop("root", REPO_ROOT))
        mirror = options.pop("mirror", None)
        mirror = None if mirror is None else Path(mirror)
        if subset not in MNIST_SUBSETS:
            raise KeyError(f"unknown MNIST subset {subset!r}; known: {sorted(MNIST_SUBSETS)}")
        pairs = [
            tuple(
                _mnist_file(n, root / "data/raw/mnist", root / SHIPPED_MNIST, mirror) for n in pair
            )
            for pair in MNIST_SUBSETS[subset]
        ]
        ds, inputs, counts = build_mnist(pairs, log=lambda *_: None, **options)
        return _with_provenance(
            ds,
            f"mnist/{subset}",
            f"MNIST IDX files {[p.name for pr in pairs for p in pr]}",
            inputs,
            counts,
            options,
        )
    if name in ("qm9", "moses"):
        from initlab.data import molecules

        options.setdefault("subset", 1000)
        options.setdefault("seed", 0)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.nc"
            if name == "qm9":
                options.setdefault("train", -1)
                options.setdefault("test", 0)
                molecules.prepare_qm9(None, path, log=lambda *_: None, **options)
            else:
                split = options.pop("split", "train")
                molecules.prepare_moses(None, split, path, log=lambda *_: None, **options)
            return _load(path)
    raise KeyError(f"unknown dataset {name!r}; known: {DATASETS}")


def _with_provenance(ds, artefact, source, inputs, counts, params):
    from initlab import __version__
    from initlab.results import to_json

    ds.attrs.update(
        artefact=artefact,
        source=source,
        inputs_sha256=to_json(inputs),
        counts=to_json(counts),
        params=to_json(params),
        created_by="initlab.data.load",
        initlab_version=__version__,
        git_commit="",
        wall_seconds="",
    )
    return ds
