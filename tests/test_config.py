"""Bad configs stop before any job runs, with a message naming the key."""

import pytest

from conftest import ROOT, snakemake
from initlab.config import ConfigError, validate

SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"

BAD = {
    "unknown key": (
        "studies:\n  scaled_gd:\n    experiments:\n      conditioning:\n        settings:\n          n_one: 40\n",
        "studies.scaled_gd.experiments.conditioning.settings: unknown key(s) ['n_one']",
    ),
    "wrong type": (
        "studies:\n  scaled_gd:\n    experiments:\n      psd:\n        settings:\n          eps: 1e-10\n",
        "studies.scaled_gd.experiments.psd.settings.eps: '1e-10' is a string, expected a number",
    ),
    "negative size": (
        "studies:\n  scaled_gd:\n    experiments:\n      phase_transition:\n        settings:\n          n1: -30\n",
        "studies.scaled_gd.experiments.phase_transition.settings.n1: -30 is less than the minimum of 1",
    ),
    "unknown study": ("studies:\n  scaled_gdd:\n    enabled: true\n", "studies: unknown key(s) ['scaled_gdd']"),
    "bad axis value": (
        "studies:\n  scaled_gd:\n    experiments:\n      psd:\n        sweep:\n"
        "          - {init: [spectral], method: [newton], c: [3.0], kappa: [1]}\n",
        "studies.scaled_gd.experiments.psd.sweep[0].method[0]: 'newton' is not one of ['scaledgd', 'gd']",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_stops_before_any_job_and_names_the_key(case, tmp_path):
    text, message = BAD[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    proc = snakemake("-n", "--configfile", str(bad), cwd=ROOT, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-3000:]
    assert "Building DAG" not in proc.stdout and "Job stats" not in proc.stdout


def test_validate_lists_every_problem_at_once():
    config = {"studies": {"scaled_gd": {"enabled": "yes", "master_seed": -1, "experiments": {}}}}
    with pytest.raises(ConfigError) as err:
        validate(config, SCHEMA)
    text = str(err.value)
    assert "studies.scaled_gd.enabled" in text and "studies.scaled_gd.master_seed" in text


def test_shipped_configs_are_valid():
    import yaml
    from snakemake.utils import update_config

    base = yaml.safe_load((ROOT / "config.yaml").read_text())
    validate(base, SCHEMA)
    for override in sorted((ROOT / "configs").glob("*.yaml")):
        merged = yaml.safe_load((ROOT / "config.yaml").read_text())
        update_config(merged, yaml.safe_load(override.read_text()))
        validate(merged, SCHEMA)


def test_a_scalar_setting_can_be_swept_in_an_override_and_is_type_checked():
    import yaml

    from initlab.sweep import study_points

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    psd = config["studies"]["scaled_gd"]["experiments"]["psd"]
    for block in psd["sweep"]:
        block["eta"] = [0.25, 0.5]  # eta is a setting, not an axis, in config.yaml
    validate(config, SCHEMA)
    points = study_points("scaled_gd", config["studies"]["scaled_gd"])["psd"]
    assert {p.params["eta"] for p in points.values()} == {0.25, 0.5}
    assert all(p.axes["eta"] == p.params["eta"] for p in points.values())

    psd["sweep"][0]["eta"] = [0.25, "0.5"]
    with pytest.raises(ConfigError, match=r"psd.sweep\[0\].eta\[1\]: '0.5' is a string"):
        validate(config, SCHEMA)
    psd["sweep"][0]["eta"] = [0.25, 2.0]  # eta lies in (0, 1]
    with pytest.raises(ConfigError, match=r"psd.sweep\[0\].eta\[1\]: 2.0 is greater than"):
        validate(config, SCHEMA)
