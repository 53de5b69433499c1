"""The IDX reader: round trips, the shipped MNIST test split, and clear errors on corrupt input."""

import gzip

import numpy as np
import pytest

from initlab.data.idx import IDXError, decode_idx, encode_idx, read_idx, write_idx
from initlab.data.registry import MNIST_LABEL_COUNTS, REPO_ROOT, SHIPPED_MNIST

SHIPPED = REPO_ROOT / SHIPPED_MNIST


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (1, 2, 1, 3)])
def test_round_trip_every_dtype_and_rank(dtype, shape):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=shape) * 50).astype(dtype)
    back = decode_idx(encode_idx(array))
    assert back.dtype == array.dtype and back.shape == shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip_through_files_plain_and_gzip(tmp_path, name):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = write_idx(tmp_path / name, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(read_idx(path), array)
    # gzip -n style: equal arrays give equal bytes
    assert write_idx(tmp_path / ("b" + name), array).read_bytes() == path.read_bytes()


def test_big_endian_on_disk():
    data = encode_idx(np.array([1, 256], dtype=np.int32))
    assert data[:4] == b"\x00\x00\x0c\x01" and data[4:8] == b"\x00\x00\x00\x02"
    assert data[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"


def test_reads_the_shipped_test_split():
    images = read_idx(SHIPPED / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(SHIPPED / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert tuple(np.bincount(labels, minlength=10)) == MNIST_LABEL_COUNTS["test"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad IDX magic number 0x01000801"),
        (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad IDX magic number 0x00000701"),
        (b"\x00\x00\x08\x00", "bad IDX magic number 0x00000800"),
        (b"GIF89a\x00\x00", "bad IDX magic number 0x47494638"),
        (b"\x00\x00", "too short for an IDX header"),
    ],
)
def test_bad_magic_is_rejected_naming_the_file(data, message):
    with pytest.raises(IDXError, match="labels.idx: ") as err:
        decode_idx(data, "labels.idx")
    assert message in str(err.value)


def test_truncated_data_and_header_and_trailing_bytes_are_rejected(tmp_path):
    good = encode_idx(np.arange(60, dtype=np.uint8).reshape(3, 4, 5))
    with pytest.raises(
        IDXError,
        match=r"x\.idx: truncated IDX data: shape \(3, 4, 5\) of uint8 needs 60 bytes, found 59",
    ):
        decode_idx(good[:-1], "x.idx")
    with pytest.raises(IDXError, match="truncated IDX header"):
        decode_idx(good[:9], "x.idx")
    with pytest.raises(IDXError, match="2 unexpected trailing bytes"):
        decode_idx(good + b"\x00\x00", "x.idx")
    path = tmp_path / "cut.idx"
    path.write_bytes(good[:30])
    with pytest.raises(IDXError, match=f"{path}: truncated IDX data"):
        read_idx(path)


def test_truncated_and_corrupt_gzip_are_rejected(tmp_path):
    packed = gzip.compress(encode_idx(np.zeros((50, 28, 28), dtype=np.uint8)))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IDXError, match=f"{cut}: truncated or corrupt gzip data"):
        read_idx(cut)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(packed[:10] + bytes(b ^ 0xFF for b in packed[10:20]) + packed[20:])
    with pytest.raises(IDXError, match="truncated or corrupt gzip data"):
        read_idx(bad)


def test_encode_refuses_what_idx_cannot_hold():
    with pytest.raises(IDXError, match="cannot hold dtype"):
        encode_idx(np.zeros(3, dtype=np.uint16))
    with pytest.raises(IDXError, match="1..255 dimensions"):
        encode_idx(np.array(3, dtype=np.uint8))
