"""QM9's CSVs from a download when qm9pack is not installed: the wheel through the real pooch path
from a loopback HTTP server, checked by its pinned sha256, and each CSV taken out of it checked by
its own. A tampered wheel or CSV fails naming the file and the expected hash and leaves no output
(the fake wheel is pinned by a `WheelSource` built for it, the way the registry pins qm9pack's).
The registry's pins are checked against the installed package when it is there."""

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest
import yaml

from data_fixtures import fake_wheel, http_server, leftovers, rezip, truncated
from initlab.data.fetch import (
    ChecksumError,
    SourceError,
    fetch_qm9,
    fetch_wheel_members,
    sha256_file,
)
from initlab.data.registry import (
    QM9_CSV_SHA256,
    QM9_PARTS,
    QM9_WHEEL,
    REPO_ROOT,
    package_dir,
    qm9_csv_paths,
)

QUIET = dict(log=lambda *_: None)


@pytest.fixture
def served(tmp_path):
    """A fake wheel served from ``tmp_path/served``, its pins, and the outputs under ``raw``."""
    wheel = fake_wheel(tmp_path / "served")
    raw = tmp_path / "raw"
    outputs = [raw / m.filename for m in wheel.members]
    return wheel, tmp_path / "served", outputs


def test_download_through_pooch_from_a_loopback_server(served):
    wheel, folder, outputs = served
    with http_server(folder) as url:
        described = fetch_wheel_members(wheel, outputs, url=url + wheel.filename, **QUIET)
    assert described == f"{wheel.filename} from {url}{wheel.filename}"
    with zipfile.ZipFile(folder / wheel.filename) as zf:
        for member, out in zip(wheel.members, outputs):
            assert out.read_bytes() == zf.read(member.member)
            assert sha256_file(out) == member.sha256
    # only the CSVs: the downloaded wheel and its temporary folder are gone
    assert leftovers(outputs[0].parent) == sorted(m.filename for m in wheel.members)


@pytest.mark.parametrize("damage", ["altered", "truncated"])
def test_a_bad_wheel_names_it_and_its_pinned_sha256_and_leaves_nothing(served, damage):
    wheel, folder, outputs = served
    if damage == "altered":  # a valid wheel with one CSV changed
        rezip(folder / wheel.filename, {wheel.members[0].member: b"Index,SMILES\n0,CCO\n"})
    else:
        truncated(folder / wheel.filename)
    outputs[0].parent.mkdir(parents=True)
    outputs[0].write_bytes(b"stale output of an earlier run")
    with http_server(folder) as url, pytest.raises(ChecksumError) as err:
        fetch_wheel_members(wheel, outputs, url=url + wheel.filename, **QUIET)
    text = str(err.value)
    assert wheel.filename in text and f"pinned sha256 {wheel.sha256}" in text
    assert f"{url}{wheel.filename}" in text
    assert leftovers(outputs[0].parent) == []


def test_a_csv_that_does_not_match_its_pin_names_it_and_leaves_nothing(served):
    """The wheel matches its pin (say a re-published wheel) but one CSV inside does not."""
    wheel, folder, outputs = served
    member = wheel.members[1]
    rezip(folder / wheel.filename, {member.member: b"Index,SMILES\n0,CCO\n"})
    repinned = type(wheel)(wheel.url, sha256_file(folder / wheel.filename), wheel.members)
    with http_server(folder) as url, pytest.raises(ChecksumError) as err:
        fetch_wheel_members(repinned, outputs, url=url + wheel.filename, **QUIET)
    text = str(err.value)
    assert text.startswith(f"{member.filename} (from {wheel.filename} from {url}")
    assert f"expected {member.sha256}" in text
    assert leftovers(outputs[0].parent) == []  # the first CSV, already verified, is gone too


def test_a_missing_csv_names_it_and_leaves_nothing(served):
    wheel, folder, outputs = served
    member = wheel.members[2]
    rezip(folder / wheel.filename, {member.member: None})
    repinned = type(wheel)(wheel.url, sha256_file(folder / wheel.filename), wheel.members)
    with (
        http_server(folder) as url,
        pytest.raises(
            ChecksumError,
            match=f"the archive has no {member.member}; expected it with sha256 {member.sha256}",
        ),
    ):
        fetch_wheel_members(repinned, outputs, url=url + wheel.filename, **QUIET)
    assert leftovers(outputs[0].parent) == []


def test_an_unreachable_server_is_a_source_error_that_suggests_the_package(served):
    wheel, folder, outputs = served
    with http_server(folder) as url:
        pass  # closed again: nothing listens on its port
    with pytest.raises(SourceError, match="download from .* failed .*qm9pack==1.0.3"):
        fetch_qm9(outputs, url=url + QM9_WHEEL.filename, **QUIET)
    assert leftovers(outputs[0].parent) == []


def test_the_registry_pins_the_three_csvs_in_order():
    assert [m.filename for m in QM9_WHEEL.members] == list(QM9_PARTS)
    assert QM9_WHEEL.filename == "qm9pack-1.0.3-py3-none-any.whl"
    assert QM9_WHEEL.url.startswith("https://files.pythonhosted.org/packages/")
    assert QM9_CSV_SHA256 == {m.filename: m.sha256 for m in QM9_WHEEL.members}
    config = yaml.safe_load((REPO_ROOT / "config.yaml").read_text())["data"]["qm9"]
    assert config["url"] == QM9_WHEEL.url and config["source"] == "auto"


@pytest.mark.skipif(qm9_csv_paths() is None, reason="qm9pack not installed")
def test_the_pins_are_the_installed_packages_record_and_files():
    """The registry's hex sha256 and sizes are the dist-info RECORD's (urlsafe base64) entries,
    and the installed CSVs match them."""
    site = package_dir("qm9pack").parent
    record = {}
    for dist in site.glob("qm9pack-1.0.3.dist-info"):
        for line in (dist / "RECORD").read_text().splitlines():
            path, digest, size = line.rsplit(",", 2)
            record[path] = (digest, size)
    assert record, "qm9pack 1.0.3's RECORD not found"
    for member, path in zip(QM9_WHEEL.members, qm9_csv_paths()):
        b64 = base64.urlsafe_b64encode(bytes.fromhex(member.sha256)).rstrip(b"=").decode()
        assert record[member.member] == (f"sha256={b64}", str(member.size))
        assert path.stat().st_size == member.size and sha256_file(path) == member.sha256


def test_prepare_refuses_csvs_that_are_not_the_pinned_ones(tmp_path):
    pytest.importorskip("rdkit")
    from initlab.data.molecules import prepare_qm9

    for part in QM9_PARTS:
        (tmp_path / part).write_text("Index,SMILES\n1,CCO\n")
    with pytest.raises(
        ChecksumError, match=f"qm9_part1.csv .*expected {QM9_CSV_SHA256['qm9_part1.csv']}"
    ):
        prepare_qm9(
            [tmp_path / p for p in QM9_PARTS],
            tmp_path / "qm9.nc",
            seed=0,
            subset=1,
            train=1,
            test=0,
            **QUIET,
        )
    assert not (tmp_path / "qm9.nc").exists()


REAL_WHEEL = os.environ.get("INITLAB_QM9_WHEEL")


@pytest.mark.skipif(
    not REAL_WHEEL, reason="set INITLAB_QM9_WHEEL to a downloaded qm9pack-1.0.3-py3-none-any.whl"
)
def test_the_real_wheel_through_pooch_gives_the_pinned_csvs(tmp_path):
    """The real wheel (104 MB), served on loopback: pooch checks it, the CSVs match their pins."""
    wheel = Path(REAL_WHEEL)
    outputs = [tmp_path / "raw" / part for part in QM9_PARTS]
    with http_server(wheel.parent) as url:
        fetch_qm9(outputs, url=url + wheel.name, **QUIET)
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs] == [
        QM9_CSV_SHA256[p] for p in QM9_PARTS
    ]
