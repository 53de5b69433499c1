"""Generators derived from keys: equal keys, equal streams; any change, a new stream."""

import numpy as np
import pytest

from initlab.rng import generator, seed_sequence


def test_equal_keys_give_equal_streams_and_numpy_scalars_are_plain_values():
    a = generator("study", 0, "exp", 5.0, 3).standard_normal(5)
    b = generator("study", np.int64(0), "exp", np.float64(5.0), 3).standard_normal(5)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("other", [("study", 1, "exp", 5.0, 3), ("study", 0, "exp", 5.0, 4), ("x", 0, "exp", 5.0, 3)])
def test_any_change_of_key_changes_the_stream(other):
    a = generator("study", 0, "exp", 5.0, 3).standard_normal(5)
    assert not np.allclose(a, generator(*other).standard_normal(5))


def test_stream_is_pinned():
    # SHA-256 of the canonical JSON key feeds PCG64: a change of derivation would silently change
    # every result of every study, so the first draws are pinned here.
    assert generator("initlab", 0).integers(0, 2**31, size=3).tolist() == [
        1349297298,
        1191561931,
        1161895671,
    ]


def test_unhashable_key_items_are_refused():
    with pytest.raises(TypeError, match="JSON-like"):
        generator("study", object())
