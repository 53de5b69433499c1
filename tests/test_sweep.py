"""Sweep points from config: deterministic names, block overrides, errors that name the key."""

import pytest

from initlab.config import ConfigError
from initlab.sweep import build_points, format_value, study_points

EXPERIMENT = {
    "settings": {"n": 10, "t_max": 100, "c_grid": [1.0, 2.0], "opt": {"a": [{"x": 2, "y": 1}], "b": 1}},
    "sweep": [
        {"init": ["spectral"], "method": ["a", "b"], "kappa": [1, 10]},
        {"init": ["random-0.001"], "method": ["a"], "kappa": [1], "t_max": 500},
    ],
}


def test_points_are_the_union_of_block_products_with_overrides():
    points = build_points(EXPERIMENT, "studies.toy.experiments.e")
    assert len(points) == 5
    p = points["init~random-0.001_kappa~1_method~a"]
    assert p.axes == {"init": "random-0.001", "kappa": 1, "method": "a"}
    assert p.params["t_max"] == 500 and p.params["c_grid"] == [1.0, 2.0]
    assert points["init~spectral_kappa~10_method~b"].params["t_max"] == 100


def test_a_scalar_setting_can_be_swept_and_the_axis_replaces_it():
    experiment = {
        "settings": {"n": 10, "t_max": 100},
        "sweep": [
            {"init": ["spectral"], "t_max": [50, 200]},
            {"init": ["random-0.001"], "t_max": [100], "n": 20},
        ],
    }
    points = build_points(experiment, "studies.toy.experiments.e")
    assert sorted(points) == [
        "init~random-0.001_t_max~100",
        "init~spectral_t_max~200",
        "init~spectral_t_max~50",
    ]
    assert points["init~spectral_t_max~50"].axes == {"init": "spectral", "t_max": 50}
    assert points["init~spectral_t_max~50"].params == {"init": "spectral", "n": 10, "t_max": 50}
    assert points["init~random-0.001_t_max~100"].params["n"] == 20


def test_names_and_params_do_not_depend_on_key_order():
    reordered = {
        "settings": {"t_max": 100, "c_grid": [1.0, 2.0], "n": 10, "opt": {"b": 1, "a": [{"y": 1, "x": 2}]}},
        "sweep": [{"method": ["a"], "kappa": [1], "init": ["spectral"]}],
    }
    (name, point), = build_points(reordered, "x").items()
    original = build_points(EXPERIMENT, "x")[name]
    assert name == "init~spectral_kappa~1_method~a"
    assert repr(point.params) == repr(original.params), "params text is what Snakemake compares"


@pytest.mark.parametrize(
    "value, text", [(5.0, "5.0"), (1e-06, "1e-06"), (10, "10"), ("random-0.001", "random-0.001"), (True, "true")]
)
def test_format_value(value, text):
    assert format_value(value, "k") == text


@pytest.mark.parametrize(
    "sweep, message",
    [
        ([{"method": ["a"]}], r"e.sweep\[0\]: every sweep block needs an 'init' axis"),
        ([{"init": ["a_b"]}], r"e.sweep\[0\].init: axis value 'a_b'"),
        ([{"init": []}], r"e.sweep\[0\].init: an axis needs at least one value"),
        ([{"init": ["a"], "t~max": [1]}], r"e.sweep\[0\].t~max: axis names use letters"),
        ([{"init": ["a"], "grid": [1, 2]}], r"e.sweep\[0\].grid: 'grid' is a list-valued setting"),
        ([{"init": ["a"]}, {"init": ["b"], "kappa": [1]}], r"e.sweep\[1\]: axes"),
        ([{"init": ["a"]}, {"init": ["a"]}], r"e.sweep\[1\]: point init~a is already"),
        ([], r"e.sweep: an experiment needs at least one sweep block"),
    ],
)
def test_bad_sweeps_name_the_key(sweep, message):
    with pytest.raises(ConfigError, match=message):
        build_points({"settings": {"n": 1, "grid": [1.0, 2.0]}, "sweep": sweep}, "e")


def test_study_points_requires_experiments():
    with pytest.raises(ConfigError, match="studies.toy.experiments"):
        study_points("toy", {"enabled": True})
