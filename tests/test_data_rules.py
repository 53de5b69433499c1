"""The data rules through the real Snakemake, in a copy of the checkout: the default MNIST stage
runs from the shipped split without network, and a bad file from a mirror or a download fails
its rule naming the file and the expected hash, with no output left behind (a missing mirror
directory: tests/test_data_fetch.py, the same code path)."""

import gzip

import numpy as np
import pytest

from conftest import copy_checkout, snakemake
from data_fixtures import altered, fake_wheel, http_server
from initlab.data.idx import encode_idx
from initlab.data.registry import MNIST_FILES, QM9_WHEEL

LABELS = "train-labels-idx1-ubyte"
TARGET = f"data/raw/mnist/{LABELS}.gz"
NO_NETWORK = "http://127.0.0.1:9/"  # the discard port: nothing listens, any download fails at once


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


def data_config(**mnist):
    items = ", ".join(f"{k}: {v}" for k, v in mnist.items())
    return ["--config", f"data={{mnist: {{{items}}}}}"]


def test_default_mnist_test_split_needs_no_network(repo):
    targets = [
        f"data/raw/mnist/{n}.gz" for n in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    ]
    snakemake("--cores", "2", *targets, *data_config(base_url=NO_NETWORK), cwd=repo)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        log = (repo / f"data/logs/mnist_fetch/{name}.log").read_text()
        assert f"verified sha256 {MNIST_FILES[name].sha256}" in log
        assert f"from shipped copy data/shipped/mnist/{name}.gz" in log


def _bad_mirror(tmp_path):
    """A folder with a valid IDX label file of the right name and size but the wrong content."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    path = mirror / f"{LABELS}.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(60000, dtype=np.uint8)), mtime=0))
    altered(path)
    return mirror


def test_a_bad_or_missing_mirror_file_fails_its_rule_naming_file_and_hash(repo, tmp_path):
    mirror = _bad_mirror(tmp_path)  # altered labels, and no images file at all
    images = "train-images-idx3-ubyte"
    targets = [TARGET, f"data/raw/mnist/{images}.gz"]
    config = data_config(mirror=str(mirror), base_url=NO_NETWORK)
    proc = snakemake("--cores", "1", "--keep-going", *targets, *config, cwd=repo, check=False)
    assert proc.returncode != 0
    assert f"ChecksumError: {LABELS}.gz (from mirror {mirror}/{LABELS}.gz)" in proc.stdout
    assert f"expected {MNIST_FILES[LABELS].sha256}" in proc.stdout
    assert (
        f"MNIST mirror {mirror} has no file {images}.gz (looked for {mirror}/{images}.gz)"
        in proc.stdout
    )
    assert proc.stdout.count("Error in rule mnist_fetch") == 8  # 2 jobs x (1 + retries: 3)
    assert not list((repo / "data/raw").rglob("train-*"))  # no output, no temporary file


def test_an_altered_download_fails_the_rule_naming_file_and_hash(repo, tmp_path):
    served = _bad_mirror(tmp_path)
    with http_server(served) as url:
        proc = snakemake("--cores", "1", TARGET, *data_config(base_url=url), cwd=repo, check=False)
    assert proc.returncode != 0
    assert f"ChecksumError: {LABELS}.gz (downloaded from {url}{LABELS}.gz)" in proc.stdout
    assert f"published md5 {MNIST_FILES[LABELS].md5_gz}" in proc.stdout
    assert not (repo / TARGET).exists() and not list((repo / "data/raw").rglob(f"*{LABELS}*"))


def test_a_tampered_qm9_wheel_fails_qm9_fetch_naming_it_and_its_hash(repo, tmp_path):
    """source: download with a wheel of the right name but not the pinned bytes."""
    fake_wheel(tmp_path / "served", name=QM9_WHEEL.filename)
    with http_server(tmp_path / "served") as url:
        config = f"data={{qm9: {{source: download, url: '{url}{QM9_WHEEL.filename}'}}}}"
        proc = snakemake(
            "--cores", "1", "data/raw/qm9/qm9_part1.csv", "--config", config, cwd=repo, check=False
        )
    assert proc.returncode != 0
    assert (
        f"ChecksumError: {QM9_WHEEL.filename} (downloaded from {url}{QM9_WHEEL.filename}): "
        f"sha256 does not match the pinned sha256 {QM9_WHEEL.sha256}"
    ) in proc.stdout
    assert proc.stdout.count("Error in rule qm9_fetch") == 4  # 1 + retries: 3
    raw = repo / "data/raw/qm9"  # no CSV, no temporary folder with the wheel
    assert not raw.exists() or sorted(p.name for p in raw.iterdir()) == []
