"""MNIST: read the verified IDX files into one dataset of flattened, scaled images.

A prepared MNIST set (``data/prepared/mnist/<subset>.nc``, subset ``test`` = the 10k test split,
``train`` = the 60k training split, ``full`` = both, train first) holds

``x``       (sample, feature) float64: pixels / 255, row-major 28x28 flattened to 784. Stored
            packed (uint8 with ``scale_factor`` 1/255, zlib), decoded by xarray to float64
            k * (1/255), which is within one ulp of k / 255.
``label``   (sample) int64, the digit.
``origin``  (sample) str, the canonical MNIST split the image comes from (``train`` / ``test``).
``index``   (sample) int64, the image's position in its IDX file.
``split``   (sample) str, ``train`` / ``test``: a fixed random split drawn from
            `initlab.data.prepared.seeded_split` (the first ``round(test_fraction * n)``
            indices of ``np.random.default_rng(split_seed).permutation(n)`` are ``test``).

Studies that need the canonical 60k/10k split use ``origin``; ``split`` is the seeded one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from initlab.data.fetch import ChecksumError
from initlab.data.idx import IDXError, decode_idx, read_bytes
from initlab.data.prepared import seeded_split
from initlab.data.registry import MNIST_FILES, MNIST_LABEL_COUNTS, MNIST_SUBSETS

__all__ = ["build_mnist", "prepare_mnist", "read_pair"]

SIDE = 28
SCALE = 255.0


def _read(path: Path, verify: bool, hashes: dict) -> np.ndarray:
    """Decompress once: hash the IDX bytes (checked against the registry when ``verify`` and the
    name is canonical), then decode them."""
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    name = _canonical_name(path)
    hashes[name or path.name] = digest
    if verify and name is not None and digest != MNIST_FILES[name].sha256:
        raise ChecksumError(
            f"{path.name}: sha256 of the decompressed bytes is {digest}, expected {MNIST_FILES[name].sha256}"
        )
    return decode_idx(data, str(path))


def read_pair(
    images: str | os.PathLike,
    labels: str | os.PathLike,
    *,
    verify: bool = True,
    hashes: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 784) uint8 and labels (n,) int64 of one IDX pair, with shape checks. With
    ``verify``, canonical MNIST file names are checked against the registry's sha256."""
    hashes = {} if hashes is None else hashes
    x, y = _read(Path(images), verify, hashes), _read(Path(labels), verify, hashes)
    if x.ndim != 3 or x.shape[1:] != (SIDE, SIDE) or x.dtype != np.uint8:
        raise IDXError(
            f"{images}: expected uint8 images of shape (n, 28, 28), got {x.dtype} {x.shape}"
        )
    if y.ndim != 1 or y.dtype != np.uint8:
        raise IDXError(f"{labels}: expected uint8 labels of shape (n,), got {y.dtype} {y.shape}")
    if len(x) != len(y):
        raise IDXError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels")
    if y.size and y.max() > 9:
        raise IDXError(f"{labels}: labels must be digits 0..9, found {int(y.max())}")
    return x.reshape(len(x), SIDE * SIDE), y.astype(np.int64)


def _canonical_name(path: Path) -> str | None:
    name = path.name.removesuffix(".gz")
    return name if name in MNIST_FILES else None


def build_mnist(
    pairs: Sequence[tuple[str | os.PathLike, str | os.PathLike]],
    *,
    split_seed: int = 0,
    test_fraction: float = 0.0,
    verify: bool = True,
    log: Callable[[str], object] = print,
) -> tuple[xr.Dataset, dict, dict]:
    """Concatenate IDX (images, labels) pairs into the prepared layout.

    Returns ``(dataset, inputs_sha256, counts)``. With ``verify``, files with a canonical MNIST
    name are checked against the registry's sha256 and their label counts against the published
    ones (`ChecksumError` / `ValueError` otherwise).
    """
    xs, ys, origins, indices, hashes = [], [], [], [], {}
    for images, labels in pairs:
        x, y = read_pair(images, labels, verify=verify, hashes=hashes)
        name = _canonical_name(Path(images))
        origin = MNIST_FILES[name].split if name else "unknown"
        if verify and name is not None:
            counts = tuple(np.bincount(y, minlength=10).tolist())
            if counts != MNIST_LABEL_COUNTS[origin]:
                raise ValueError(
                    f"{labels}: label counts {counts} differ from the published {MNIST_LABEL_COUNTS[origin]}"
                )
        log(f"read {Path(images).name} + {Path(labels).name}: {len(x)} images ({origin})")
        xs.append(x)
        ys.append(y)
        origins.append(np.full(len(x), origin, dtype=object))
        indices.append(np.arange(len(x)))
    images = np.concatenate(xs)
    label = np.concatenate(ys)
    n = len(label)
    split = seeded_split(n, split_seed, test_fraction)
    ds = xr.Dataset(
        {
            "x": (("sample", "feature"), images / SCALE),
            "label": ("sample", label),
            "origin": ("sample", np.concatenate(origins).astype(str)),
            "index": ("sample", np.concatenate(indices)),
            "split": ("sample", split),
        },
        coords={"sample": np.arange(n), "feature": np.arange(SIDE * SIDE)},
    )
    ds["x"].attrs["description"] = "pixel / 255, 28x28 row-major flattened"
    counts = {
        "n_samples": n,
        "label_counts": np.bincount(label, minlength=10).tolist(),
        "by_origin": {
            o: int((ds["origin"].values == o).sum()) for o in sorted(set(ds["origin"].values))
        },
        "by_split": {s: int((split == s).sum()) for s in ("train", "test")},
        "mean_pixel_0_255": round(float(images.mean()), 4),
    }
    return ds, hashes, counts


#: Packed storage of the scaled pixels: exact k/255 grid in one byte, zlib-compressed.
X_ENCODING = {
    "dtype": "uint8",
    "scale_factor": 1.0 / SCALE,
    "_FillValue": None,
    "zlib": True,
    "complevel": 1,
}


def prepare_mnist(
    subset: str,
    files: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    split_seed: int,
    test_fraction: float,
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    """Build the prepared ``subset`` from its verified raw files and write ``output``.

    ``files`` are the raw ``.gz`` paths; they are matched to the subset's (images, labels) pairs
    of `initlab.data.registry.MNIST_SUBSETS` by name.
    """
    from initlab.data.prepared import Timer, write_prepared

    timer = Timer()
    if subset not in MNIST_SUBSETS:
        raise KeyError(f"unknown MNIST subset {subset!r}; known: {sorted(MNIST_SUBSETS)}")
    by_name = {Path(f).name.removesuffix(".gz"): Path(f) for f in files}
    missing = [n for pair in MNIST_SUBSETS[subset] for n in pair if n not in by_name]
    if missing:
        raise FileNotFoundError(f"MNIST subset {subset!r} needs {missing}; got {sorted(by_name)}")
    pairs = [(by_name[i], by_name[lab]) for i, lab in MNIST_SUBSETS[subset]]
    ds, hashes, counts = build_mnist(
        pairs, split_seed=split_seed, test_fraction=test_fraction, log=log
    )
    n = ds.sizes["sample"]
    encoding = {"x": {**X_ENCODING, "chunksizes": (min(n, 2000), SIDE * SIDE)}}
    out = write_prepared(
        ds,
        output,
        artefact=f"mnist/{subset}",
        source="MNIST IDX files " + ", ".join(f"{p[0].name} + {p[1].name}" for p in pairs),
        inputs_sha256=hashes,
        counts=counts,
        params={
            "subset": subset,
            "split_seed": split_seed,
            "test_fraction": test_fraction,
            "scale": "1/255",
        },
        created_by="initlab.data.mnist.prepare_mnist",
        wall_seconds=timer(),
        encoding=encoding,
    )
    log(
        f"mnist/{subset}: {n} images, label counts {counts['label_counts']}, {timer():.2f} s -> {output}"
    )
    return out
