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

QM9 without the ``qm9pack`` package (`fetch_wheel_members`, rule ``qm9_fetch``): pooch downloads
the package's wheel into a temporary folder beside the outputs, checking the wheel's pinned
sha256 (``known_hash``); the pinned CSVs are then streamed out of the archive, each checked by its
own sha256, and moved into place together. Any failure removes every output and the temporary
folder; the error names the file (the wheel or a CSV) and its expected sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from initlab.data.registry import MNIST_BASE_URL, MNIST_FILES, QM9_WHEEL, MnistFile, WheelSource

__all__ = [
    "ChecksumError",
    "SourceError",
    "fetch_file",
    "fetch_mnist_file",
    "fetch_qm9",
    "fetch_wheel_members",
    "sha256_decompressed",
    "sha256_file",
    "verify_file",
    "verify_sha256",
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


def _retrieve(
    url: str, folder: Path, fname: str, known_hash: str, whose: str, hint: str, downloader
):
    """pooch download of ``url`` to ``folder / fname``, checked against ``known_hash``
    (``"<algorithm>:<hex>"``); its failures become `SourceError` (with ``hint``) or `ChecksumError`
    (naming ``whose`` hash it was: "published", "pinned"). Returns the path."""
    import pooch

    try:
        path = pooch.retrieve(
            url,
            known_hash=known_hash,
            fname=fname,
            path=folder,
            progressbar=False,
            downloader=downloader,
        )
    except ValueError as exc:
        if "does not match the known hash" not in str(exc):  # e.g. an unsupported URL protocol
            raise SourceError(f"{fname}: cannot download from {url}: {exc}") from exc
        # pooch's hash mismatch: it has already deleted its temporary download
        algorithm, digest = known_hash.split(":", 1)
        raise ChecksumError(
            f"{fname} (downloaded from {url}): {algorithm} does not match the {whose} "
            f"{algorithm} {digest}: {exc}"
        ) from exc
    except Exception as exc:  # network errors: requests' exceptions, ftp/sftp errors
        raise SourceError(
            f"{fname}: download from {url} failed ({type(exc).__name__}: {exc}). {hint}"
        ) from exc
    return Path(path)


def _download(url: str, output: Path, entry: MnistFile, downloader=None) -> None:
    hint = "Without network, point data.mnist.mirror at a folder holding the canonical files"
    md5 = f"md5:{entry.md5_gz}"
    _retrieve(url, output.parent, output.name, md5, "published", hint, downloader)
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


def verify_sha256(
    path: str | os.PathLike, expected: str, *, name: str | None = None, origin: str = ""
) -> str:
    """Check the sha256 of ``path``'s bytes as stored against ``expected``; return it.

    Raises `ChecksumError` naming the file (``name``, default the file name), where it came from
    and the expected hash.
    """
    name = name or Path(path).name
    where = f" (from {origin})" if origin else ""
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(
            f"{name}{where}: sha256 is {actual}, expected {expected}; the file is altered or is "
            "not the pinned one"
        )
    return actual


QM9_HINT = (
    "Without network, install the package instead: pip install --no-deps qm9pack==1.0.3 "
    "(data.qm9.source: auto or package)"
)


def _download_wheel(url: str, folder: Path, wheel: WheelSource, downloader, hint: str) -> Path:
    """pooch download of ``url`` into ``folder`` as ``wheel.filename``, checked by its sha256."""
    sha256 = f"sha256:{wheel.sha256}"
    return _retrieve(url, folder, wheel.filename, sha256, "pinned", hint, downloader)


def _extract_verified(archive: Path, wheel: WheelSource, staged: Sequence[Path], origin: str):
    """Stream each pinned member of ``archive`` to its ``staged`` path, checking its sha256."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ChecksumError(
            f"{wheel.filename} (from {origin}): not a readable zip archive ({exc}); expected "
            f"sha256 {wheel.sha256}"
        ) from exc
    with zf:
        for member, dest in zip(wheel.members, staged):
            try:
                info = zf.getinfo(member.member)
            except KeyError:
                raise ChecksumError(
                    f"{member.filename} (from {origin}): the archive has no {member.member}; "
                    f"expected it with sha256 {member.sha256}"
                ) from None
            digest, size = hashlib.sha256(), 0
            try:
                with zf.open(info) as src, open(dest, "wb") as dst:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        dst.write(block)
                        size += len(block)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:  # CRC or deflate errors
                raise ChecksumError(
                    f"{member.filename} (from {origin}): truncated or corrupt archive member "
                    f"({exc}); expected sha256 {member.sha256}"
                ) from exc
            actual = digest.hexdigest()
            if actual != member.sha256:
                raise ChecksumError(
                    f"{member.filename} (from {origin}): sha256 is {actual} ({size} bytes), "
                    f"expected {member.sha256} ({member.size} bytes); the file is altered or is "
                    "not the pinned one"
                )


def fetch_wheel_members(
    wheel: WheelSource,
    outputs: Sequence[str | os.PathLike],
    *,
    url: str | None = None,
    downloader=None,
    hint: str = "",
    log: Callable[[str], object] = print,
) -> str:
    """Download ``wheel`` and put each of its pinned members, verified, at the matching output.

    ``outputs`` follow the order of ``wheel.members``. ``url`` replaces ``wheel.url`` (a mirror,
    or a loopback server in the tests); the bytes are pinned either way. The wheel goes to a
    temporary folder beside the first output and is deleted afterwards. On any failure no output
    exists afterwards (stale files there are removed too). Returns a one-line description.
    """
    outputs = [Path(o) for o in outputs]
    if len(outputs) != len(wheel.members):
        raise ValueError(f"{len(wheel.members)} outputs expected, got {len(outputs)}")
    url = url or wheel.url
    work = outputs[0].parent / f".{wheel.filename}.{os.getpid()}.tmp"
    try:
        for out in outputs:
            out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        archive = _download_wheel(url, work, wheel, downloader, hint)
        log(f"{wheel.filename}: verified sha256 {wheel.sha256}, downloaded from {url}")
        staged = [work / f"{k}.{m.filename}" for k, m in enumerate(wheel.members)]
        _extract_verified(archive, wheel, staged, f"{wheel.filename} from {url}")
        for source, out in zip(staged, outputs):
            os.replace(source, out)
    except BaseException:
        for out in outputs:
            out.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for member, out in zip(wheel.members, outputs):
        log(f"{member.filename}: verified sha256 {member.sha256} ({member.size} bytes) -> {out}")
    return f"{wheel.filename} from {url}"


def fetch_qm9(outputs: Sequence[str | os.PathLike], *, url: str | None = None, **options) -> str:
    """`fetch_wheel_members` for QM9's three CSVs from qm9pack 1.0.3's wheel (``QM9_WHEEL``)."""
    options.setdefault("hint", QM9_HINT)
    return fetch_wheel_members(QM9_WHEEL, outputs, url=url, **options)
