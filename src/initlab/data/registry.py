"""Checksums, file names and published counts of every dataset initlab reads.

Plain Python only (no numpy): ``workflow/rules/data.smk`` imports this on every parse.

MNIST files are pinned twice:

* ``md5_gz``: the md5 published for the original ``.gz`` downloads (torchvision and most other
  loaders use these). pooch checks it on a download.
* ``sha256``: the sha256 of the *decompressed* IDX bytes. Every copy is checked against it: a
  download, a file from a local mirror (which may have been re-compressed, so its ``.gz`` hash
  differs) and the 10k test split shipped in ``data/shipped/mnist/``.

QM9's three CSVs are pinned by their sha256 (``QM9_CSV_SHA256``), checked whether they come from
the installed ``qm9pack`` package or from its wheel downloaded by the ``qm9_fetch`` rule
(``QM9_WHEEL``, itself pinned by the sha256 PyPI publishes).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MNIST_BASE_URL",
    "MNIST_FILES",
    "MNIST_LABEL_COUNTS",
    "MNIST_SUBSETS",
    "MNIST_TRAIN_MEAN_PIXEL",
    "MnistFile",
    "MOSES_SPLITS",
    "PinnedFile",
    "QM9_CSV_SHA256",
    "QM9_N_MOLECULES",
    "QM9_PARTS",
    "QM9_RAW",
    "QM9_WHEEL",
    "REPO_ROOT",
    "SHIPPED_MNIST",
    "moses_csv_paths",
    "WheelSource",
    "package_dir",
    "qm9_csv_paths",
    "qm9_raw_paths",
]

#: The canonical base URL (the S3 copy that torchvision uses; the historical one is
#: http://yann.lecun.com/exdb/mnist/). A config value: ``data.mnist.base_url``.
MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"


@dataclass(frozen=True)
class MnistFile:
    name: str  # without ".gz"
    kind: str  # "images" or "labels"
    split: str  # "train" or "test" (the canonical MNIST split the file belongs to)
    count: int
    md5_gz: str
    sha256: str  # of the decompressed bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.gz"


MNIST_FILES: dict[str, MnistFile] = {
    f.name: f
    for f in [
        MnistFile(
            "train-images-idx3-ubyte",
            "images",
            "train",
            60000,
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        MnistFile(
            "train-labels-idx1-ubyte",
            "labels",
            "train",
            60000,
            "d53e105ee54ea40749a09fcbcd1e9432",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        MnistFile(
            "t10k-images-idx3-ubyte",
            "images",
            "test",
            10000,
            "9fb629c4189551a2d022fa330f9573f3",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        MnistFile(
            "t10k-labels-idx1-ubyte",
            "labels",
            "test",
            10000,
            "ec29112dd5afa0611ce80d1b7f02629c",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ]
}

#: Prepared MNIST subsets: the (images, labels) file pairs each one concatenates, in order.
MNIST_SUBSETS: dict[str, tuple[tuple[str, str], ...]] = {
    "test": (("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),),
    "train": (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),),
    "full": (
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ),
}

#: Published label counts (digits 0..9) of the canonical splits.
MNIST_LABEL_COUNTS = {
    "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
}
#: Mean pixel value (0..255) of the 60k training images, a check that the data is the real MNIST.
MNIST_TRAIN_MEAN_PIXEL = 33.318

#: The checkout that holds this package (src/initlab/data/registry.py -> repo root).
REPO_ROOT = Path(__file__).resolve().parents[3]
#: The 10k test split shipped with the repository (default for quick runs, no network).
SHIPPED_MNIST = Path("data/shipped/mnist")

#: QM9 as shipped by qm9pack 1.0.3: the standard set without the 3,054 uncharacterized molecules.
QM9_N_MOLECULES = 130831
QM9_PARTS = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")


@dataclass(frozen=True)
class PinnedFile:
    """One file inside an archive, pinned by the sha256 of its bytes."""

    member: str  # path inside the archive, e.g. "qm9pack/data/qm9_part1.csv"
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class WheelSource:
    """A wheel to download (``url``, pinned by its own ``sha256``) and the files taken out of it."""

    url: str
    sha256: str
    members: tuple[PinnedFile, ...]

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


#: QM9's CSVs when qm9pack is not installed: its 1.0.3 wheel from PyPI, at the URL PyPI's simple
#: index (https://pypi.org/simple/qm9pack/) gives for it. That URL is content-addressed (the path
#: derives from the file's hash), so it never changes. PyPI also documents a "predictable" redirect
#: form, ``https://files.pythonhosted.org/packages/py3/q/qm9pack/qm9pack-1.0.3-py3-none-any.whl``
#: (warehouse's integration guide), but it is a convenience redirect that answered 404 through our
#: network's proxy (2026-11-29), so it is not the default; it works as a ``data.qm9.url`` value
#: where the redirect is served. The wheel's sha256 is the one the index publishes (pip checks it
#: on ``pip download qm9pack==1.0.3``); each CSV's sha256 and size are those pinned by the
#: wheel's own ``qm9pack-1.0.3.dist-info/RECORD`` (base64 there, hex here), checked against an
#: installed copy (tests/test_data_qm9.py). A config value: ``data.qm9.url``.
QM9_WHEEL = WheelSource(
    url=(
        "https://files.pythonhosted.org/packages/fd/8f/"
        "ce586cc7801ebd0880483904127b1e50a81d31d3af287379edfe1af10fc7/"
        "qm9pack-1.0.3-py3-none-any.whl"
    ),
    sha256="1d88c2988007c6778e717ee3224cf511bd60e10732ebe3b7ed500ea5af05c9f0",
    members=(
        PinnedFile(
            "qm9pack/data/qm9_part1.csv",
            "19f0a5d595462d52cd82eef3370f3e9eb55a1f52cb14985657200349568deff3",
            69693764,
        ),
        PinnedFile(
            "qm9pack/data/qm9_part2.csv",
            "2bca113fdc0b28a13563c80ed9b240e934f3da6c64c64fe74ddb4f0f36036e61",
            76868612,
        ),
        PinnedFile(
            "qm9pack/data/qm9_part3.csv",
            "9c5efb5733d2af149db8d95d36ff198b4ffed12d9f7b344220a1e5877d5c6a43",
            79083002,
        ),
    ),
)
#: ``{csv name: sha256}`` of QM9's CSVs, whatever their source (installed package or download).
QM9_CSV_SHA256 = {f.filename: f.sha256 for f in QM9_WHEEL.members}
#: Where the ``qm9_fetch`` rule puts the CSVs taken out of the downloaded wheel.
QM9_RAW = Path("data/raw/qm9")
#: MOSES splits as shipped by molsets 0.3.1 (``moses/dataset/data/<split>.csv.gz``), with sizes.
MOSES_SPLITS = {"train": 1584663, "test": 176074, "test_scaffolds": 176225}


def package_dir(name: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it (``qm9pack``
    needs the removed ``pkg_resources`` on import and ``moses`` fails against current RDKit)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(os.fspath(list(spec.submodule_search_locations)[0]))


def qm9_csv_paths() -> list[Path] | None:
    """``qm9pack/data/qm9_part{1,2,3}.csv``, or None when qm9pack is not installed."""
    folder = package_dir("qm9pack")
    if folder is None:
        return None
    paths = [folder / "data" / part for part in QM9_PARTS]
    return paths if all(p.is_file() for p in paths) else None


def qm9_raw_paths(root: str | os.PathLike = REPO_ROOT) -> list[Path] | None:
    """``<root>/data/raw/qm9/qm9_part{1,2,3}.csv`` (rule qm9_fetch), or None when not all exist."""
    paths = [Path(root) / QM9_RAW / part for part in QM9_PARTS]
    return paths if all(p.is_file() for p in paths) else None


def moses_csv_paths() -> dict[str, Path] | None:
    """``{split: moses/dataset/data/<split>.csv.gz}``, or None when molsets is not installed."""
    folder = package_dir("moses")
    if folder is None:
        return None
    paths = {split: folder / "dataset" / "data" / f"{split}.csv.gz" for split in MOSES_SPLITS}
    return paths if all(p.is_file() for p in paths.values()) else None
