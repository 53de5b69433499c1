"""The IDX format of MNIST (http://yann.lecun.com/exdb/mnist/), numpy only.

An IDX file is a 4-byte magic number ``00 00 <dtype> <ndim>``, ``ndim`` big-endian uint32 sizes,
then the data in C order, big-endian. ``.gz`` files are decompressed on the fly (recognised by
their content, not their name). A bad magic number, a truncated file and trailing bytes are errors
that name the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXError", "decode_idx", "encode_idx", "read_bytes", "read_idx", "write_idx"]

#: IDX type codes -> numpy dtypes (big-endian where it matters).
DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dt: code for code, dt in DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An unreadable IDX file; the message names the file and what is wrong."""


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed if it is gzip; a truncated or corrupt gzip is an `IDXError`."""
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise IDXError(f"{path}: truncated or corrupt gzip data ({exc})") from exc


def decode_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array of the file's shape and a native-endian dtype."""
    if len(data) < 4:
        raise IDXError(f"{name}: {len(data)} bytes is too short for an IDX header (4-byte magic)")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in DTYPES or ndim == 0:
        raise IDXError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000<type><ndim> with "
            f"type in {sorted(f'0x{c:02x}' for c in DTYPES)} and ndim >= 1); not an IDX file"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated IDX header ({len(data)} of {header} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IDXError(
            f"{name}: truncated IDX data: shape {shape} of {dtype.name} needs {expected} bytes, "
            f"found {found}"
        )
    if found > expected:
        raise IDXError(f"{name}: {found - expected} unexpected trailing bytes after the IDX data")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip) into a numpy array."""
    return decode_idx(read_bytes(path), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes of ``array`` (dtypes uint8, int8, int16, int32, float32, float64)."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in CODES:
        raise IDXError(f"IDX cannot hold dtype {array.dtype}; use one of {sorted(map(str, CODES))}")
    if array.ndim == 0 or array.ndim > 255:
        raise IDXError(f"IDX needs 1..255 dimensions, got {array.ndim}")
    header = (
        bytes([0, 0, CODES[dtype], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    )
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX; gzip when ``compress`` is true (default: when the name ends .gz).
    ``gzip -n`` style (no name or time stamp), so equal arrays give equal bytes."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)
    return path
