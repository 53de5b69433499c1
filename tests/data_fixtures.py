"""Helpers of the data tests: small fake IDX files with their hashes, and a loopback HTTP server."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np

from initlab.data.idx import encode_idx
from initlab.data.registry import MnistFile, PinnedFile, WheelSource


def fake_labels_file(
    folder: Path, name: str = "fake-labels-idx1-ubyte", n: int = 500, seed: int = 0
) -> MnistFile:
    """Write ``folder/<name>.gz`` (IDX labels) and return a registry entry pinning it."""
    raw = encode_idx(np.random.default_rng(seed).integers(0, 10, n).astype(np.uint8))
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.gz").write_bytes(packed)
    return MnistFile(
        name, "labels", "test", n, hashlib.md5(packed).hexdigest(), hashlib.sha256(raw).hexdigest()
    )


def fake_wheel(
    folder: Path, name: str = "fakepack-1.0-py3-none-any.whl", n_members: int = 3
) -> WheelSource:
    """Write a small wheel-shaped zip ``folder/<name>`` (a module, CSV data files, a dist-info
    RECORD) and return a `WheelSource` pinning it and its CSVs, as the registry pins qm9pack's."""
    import zipfile

    rng = np.random.default_rng(1)
    csvs = {
        f"fakepack/data/part{k + 1}.csv": (
            "Index,SMILES\n"
            + "".join(f"{i},{'C' * int(rng.integers(2, 9))}O\n" for i in range(200))
        ).encode()
        for k in range(n_members)
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fakepack/__init__.py", "")
        for member, data in csvs.items():
            zf.writestr(member, data)
        zf.writestr("fakepack-1.0.dist-info/RECORD", "".join(f"{m},,\n" for m in csvs))
    return WheelSource(
        url=f"https://example.invalid/packages/{name}",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        members=tuple(
            PinnedFile(m, hashlib.sha256(d).hexdigest(), len(d)) for m, d in csvs.items()
        ),
    )


def rezip(path: Path, change: dict[str, bytes | None]) -> None:
    """Rewrite the zip at ``path`` with members replaced (bytes) or removed (None)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    for member, data in change.items():
        if data is None:
            items.pop(member)
        else:
            items[member] = data
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in items.items():
            zf.writestr(member, data)


def altered(path: Path) -> None:
    """Flip one byte of the decompressed content and re-compress (a valid gzip of wrong data)."""
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 0x01
    path.write_bytes(gzip.compress(bytes(raw), mtime=0))


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@contextlib.contextmanager
def http_server(folder: Path, timeout: float = 20.0):
    """Serve ``folder`` on 127.0.0.1 (a free port) from a daemon thread; yield the base URL.

    Bounded: the server stops when the block ends, and requests time out after ``timeout`` s.
    """
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = timeout
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def leftovers(folder: Path) -> list[str]:
    """Every file left in ``folder`` (to check that a failure leaves nothing, not even a temp)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
