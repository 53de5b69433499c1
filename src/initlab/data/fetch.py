"""Fetch a pinned file once and verify it: from the repository's shipped copy, a local mirror
directory, or a download through pooch.

Sources are tried in this order, the first that has the file wins:

1. ``shipped``: the repository's own copy (``data/shipped/mnist``: the 10k test split), if the
   folder holds the file;
2. ``mirror``: a local directory with the canonical file names (``data.mnist.mirror``). pooch
   has no ``file://``, so the file is copied to a temporary name next to the output and verified;
   a missing directory or file is an error that names the path (it never falls back to the network);
3. a download of ``base_url + <name>.gz`` with ``pooch.retrieve(known_hash="md5:...")``, which
   downloads to a temporary file, checks the published md5 and only then moves it into place.

Every copy, whatever its source, is then checked by the sha256 of its *decompressed* bytes, so a
re-compressed mirror is accepted and a truncated or altered file is not. A mismatch raises
`ChecksumError` naming the file and the expected hash, and leaves no output behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

from initlab.data.registry import MNIST_BASE_URL, MNIST_FILES, MnistFile

__all__ = [
    "ChecksumError",
    "SourceError",
    "fetch_file",
    "fetch_mnist_file",
    "sha256_decompressed",
    "sha256_file",
    "verify_file",
]

CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file whose content does not match its pinned hash (or cannot be decompressed)."""


class SourceError(FileNotFoundError):
    """A configured source (mirror directory, shipped folder, URL) that cannot provide the file."""


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of the file's bytes as stored."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_decompressed(path: str | os.PathLike) -> str:
    """sha256 of the decompressed bytes of a gzip file (of the bytes as stored if not gzip).

    Raises `EOFError` / `OSError` / `zlib.error` for a truncated or corrupt gzip stream.
    """
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    digest = hashlib.sha256()
    with gzip.open(path, "rb") if is_gzip else open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, entry: MnistFile, *, origin: str = "") -> str:
    """Check ``path`` against ``entry.sha256`` (decompressed bytes); return the hash.

    Raises `ChecksumError` naming the file, where it came from and the expected hash.
    """
    where = f" (from {origin})" if origin else ""
    try:
        actual = sha256_decompressed(path)
    except (EOFError, OSError, zlib.error) as exc:
        raise ChecksumError(
            f"{entry.filename}{where}: truncated or corrupt gzip data ({exc}); expected the "
            f"decompressed bytes to have sha256 {entry.sha256}"
        ) from exc
    if actual != entry.sha256:
        raise ChecksumError(
            f"{entry.filename}{where}: sha256 of the decompressed bytes is {actual}, expected "
            f"{entry.sha256}; the file is altered or is not the canonical MNIST file"
        )
    return actual


def _tmp_name(output: Path) -> Path:
    return output.with_name(f".{output.name}.{os.getpid()}.tmp")


def _copy_verified(source: Path, output: Path, entry: MnistFile, origin: str) -> None:
    """Copy ``source`` to a temporary name beside ``output``, verify, then move into place."""
    tmp = _tmp_name(output)
    try:
        shutil.copyfile(source, tmp)
        verify_file(tmp, entry, origin=origin)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def _download(url: str, output: Path, entry: MnistFile, downloader=None) -> None:
    import pooch

    try:
        pooch.retrieve(
            url,
            known_hash=f"md5:{entry.md5_gz}",
            fname=output.name,
            path=output.parent,
            progressbar=False,
            downloader=downloader,
        )
    except ValueError as exc:
        if "does not match the known hash" not in str(exc):  # e.g. an unsupported URL protocol
            raise SourceError(f"{entry.filename}: cannot download from {url}: {exc}") from exc
        # pooch's hash mismatch: it has already deleted its temporary download
        raise ChecksumError(
            f"{entry.filename} (downloaded from {url}): md5 does not match the published "
            f"md5 {entry.md5_gz}: {exc}"
        ) from exc
    except Exception as exc:  # network errors: requests' exceptions, ftp/sftp errors
        raise SourceError(
            f"{entry.filename}: download from {url} failed ({type(exc).__name__}: {exc}). "
            "Without network, point data.mnist.mirror at a folder holding the canonical files"
        ) from exc
    verify_file(output, entry, origin=url)


def fetch_file(
    entry: MnistFile,
    output: str | os.PathLike,
    *,
    shipped: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    base_url: str = MNIST_BASE_URL,
    downloader=None,
    log: Callable[[str], object] = print,
) -> str:
    """Put a verified copy of ``entry`` at ``output``; return a one-line description of the source.

    On any failure the output does not exist afterwards (a stale file there is removed too).
    ``downloader`` is passed to pooch (tests use it to avoid the network; None is pooch's HTTP).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        if shipped is not None and (Path(shipped) / entry.filename).is_file():
            source = Path(shipped) / entry.filename
            _copy_verified(source, output, entry, f"shipped copy {source}")
            described = f"shipped copy {source}"
        elif mirror is not None:
            folder = Path(mirror)
            if not folder.is_dir():
                raise SourceError(
                    f"MNIST mirror directory {folder} does not exist (data.mnist.mirror; relative "
                    f"paths are taken from the repository root, here {Path.cwd()})"
                )
            source = folder / entry.filename
            if not source.is_file():
                raise SourceError(
                    f"MNIST mirror {folder} has no file {entry.filename} (looked for {source})"
                )
            _copy_verified(source, output, entry, f"mirror {source}")
            described = f"mirror {source}"
        else:
            url = base_url.rstrip("/") + "/" + entry.filename
            _download(url, output, entry, downloader)
            described = f"download {url}"
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    log(f"{entry.filename}: verified sha256 {entry.sha256} (decompressed), from {described}")
    return described


def fetch_mnist_file(name: str, output: str | os.PathLike, **sources) -> str:
    """`fetch_file` for one of the four canonical MNIST files (name without ``.gz``)."""
    if name not in MNIST_FILES:
        raise KeyError(f"unknown MNIST file {name!r}; known: {sorted(MNIST_FILES)}")
    return fetch_file(MNIST_FILES[name], output, **sources)
