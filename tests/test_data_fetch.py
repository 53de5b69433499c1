"""Fetching with verification: shipped copy, local mirror and a real pooch download from a loopback
HTTP server. A truncated or altered file fails with the file's name and the expected hash and
leaves no output behind; a missing mirror says so, naming the path."""

import gzip
import shutil

import pytest

from data_fixtures import altered, fake_labels_file, http_server, leftovers, truncated
from initlab.data.fetch import ChecksumError, SourceError, fetch_file, fetch_mnist_file, verify_file
from initlab.data.registry import MNIST_FILES, REPO_ROOT, SHIPPED_MNIST


@pytest.fixture
def fake(tmp_path):
    mirror = tmp_path / "mirror"
    return fake_labels_file(mirror), mirror, tmp_path / "raw"


def test_mirror_copy_is_verified_and_moved_into_place(fake):
    entry, mirror, raw = fake
    out = raw / entry.filename
    described = fetch_file(entry, out, mirror=mirror, log=lambda *_: None)
    assert described == f"mirror {mirror / entry.filename}"
    assert out.read_bytes() == (mirror / entry.filename).read_bytes()
    assert leftovers(raw) == [entry.filename]


def test_a_recompressed_mirror_is_accepted(fake):
    """The mirror is checked by its decompressed bytes, so another gzip level is fine."""
    entry, mirror, raw = fake
    path = mirror / entry.filename
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=123))
    fetch_file(entry, raw / entry.filename, mirror=mirror, log=lambda *_: None)
    assert verify_file(raw / entry.filename, entry) == entry.sha256


@pytest.mark.parametrize("damage", [altered, truncated], ids=["altered", "truncated"])
def test_a_bad_mirror_file_names_the_file_and_expected_hash_and_leaves_nothing(fake, damage):
    entry, mirror, raw = fake
    damage(mirror / entry.filename)
    out = raw / entry.filename
    out.parent.mkdir(parents=True)
    out.write_bytes(b"stale output of an earlier run")
    with pytest.raises(ChecksumError) as err:
        fetch_file(entry, out, mirror=mirror, log=lambda *_: None)
    text = str(err.value)
    assert entry.filename in text and entry.sha256 in text and str(mirror / entry.filename) in text
    assert leftovers(raw) == []


def test_a_missing_mirror_directory_or_file_says_so_naming_the_path(fake, tmp_path):
    entry, mirror, raw = fake
    with pytest.raises(
        SourceError, match=f"MNIST mirror directory {tmp_path / 'nowhere'} does not exist"
    ):
        fetch_file(entry, raw / entry.filename, mirror=tmp_path / "nowhere")
    (mirror / entry.filename).unlink()
    with pytest.raises(
        SourceError,
        match=f"has no file {entry.filename} \\(looked for {mirror / entry.filename}\\)",
    ):
        fetch_file(entry, raw / entry.filename, mirror=mirror)
    assert leftovers(raw) == []


def test_download_through_pooch_from_a_loopback_server(fake):
    entry, served, raw = fake
    with http_server(served) as url:
        described = fetch_file(entry, raw / entry.filename, base_url=url, log=lambda *_: None)
        assert described == f"download {url}{entry.filename}"
        assert verify_file(raw / entry.filename, entry) == entry.sha256
        # present and valid: pooch does not fetch it again, and the copy stays
        fetch_file(entry, raw / entry.filename, base_url=url, log=lambda *_: None)
    assert leftovers(raw) == [entry.filename]


@pytest.mark.parametrize("damage", [altered, truncated], ids=["altered", "truncated"])
def test_a_bad_download_names_the_file_and_expected_md5_and_leaves_nothing(fake, damage):
    entry, served, raw = fake
    damage(served / entry.filename)
    with http_server(served) as url, pytest.raises(ChecksumError) as err:
        fetch_file(entry, raw / entry.filename, base_url=url, log=lambda *_: None)
    text = str(err.value)
    assert entry.filename in text and entry.md5_gz in text and f"{url}{entry.filename}" in text
    assert leftovers(raw) == []


def test_a_download_that_pooch_accepts_is_still_checked_by_sha256(fake):
    """A registry entry whose md5 matches but whose content hash does not is refused too."""
    entry, served, raw = fake
    wrong = type(entry)(entry.name, entry.kind, entry.split, entry.count, entry.md5_gz, "0" * 64)
    with http_server(served) as url, pytest.raises(ChecksumError, match="expected 0{64}"):
        fetch_file(wrong, raw / entry.filename, base_url=url, log=lambda *_: None)
    assert leftovers(raw) == []


def test_an_unreachable_server_is_a_source_error_that_suggests_the_mirror(fake):
    entry, served, raw = fake
    with http_server(served) as url:
        pass  # the server is closed again: nothing listens on its port
    with pytest.raises(SourceError, match="download from .* failed .*data.mnist.mirror"):
        fetch_file(entry, raw / entry.filename, base_url=url, log=lambda *_: None)
    assert leftovers(raw) == []


def test_the_shipped_test_split_is_used_first_and_verified(tmp_path):
    shipped = REPO_ROOT / SHIPPED_MNIST
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        out = tmp_path / f"{name}.gz"
        described = fetch_mnist_file(
            name,
            out,
            shipped=shipped,
            mirror=tmp_path / "unused",
            base_url="http://127.0.0.1:9/",
            log=lambda *_: None,
        )
        assert described.startswith("shipped copy")
        assert verify_file(out, MNIST_FILES[name]) == MNIST_FILES[name].sha256


def test_an_altered_shipped_copy_is_refused(tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    name = "t10k-labels-idx1-ubyte"
    shutil.copy(REPO_ROOT / SHIPPED_MNIST / f"{name}.gz", shipped)
    altered(shipped / f"{name}.gz")
    with pytest.raises(
        ChecksumError, match=f"{name}.gz \\(from shipped copy .*expected {MNIST_FILES[name].sha256}"
    ):
        fetch_mnist_file(name, tmp_path / "raw" / f"{name}.gz", shipped=shipped)
    assert leftovers(tmp_path / "raw") == []
