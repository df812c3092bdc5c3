"""Bad data is refused with the file, the line and the reason; odd data loads with a warning."""

from __future__ import annotations

import pytest

from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError
from tests.helpers import (
    BAD_DATA_CAP_BYTES,
    BAD_DATA_CASES,
    ODD_DATA_CASES,
    bad_dataset,
    odd_dataset,
)


@pytest.mark.parametrize("name", BAD_DATA_CASES)
def test_bad_data_is_refused_naming_the_file_and_line(name, good_data, tmp_path):
    data, expected = bad_dataset(name, good_data, tmp_path)
    with pytest.raises(DataError) as excinfo:
        load_movielens(data, max_unpacked_bytes=BAD_DATA_CAP_BYTES)
    assert expected in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("name", ODD_DATA_CASES)
def test_odd_data_loads_with_a_warning(name, good_data, tmp_path):
    data, warning = odd_dataset(name, good_data, tmp_path)
    dataset = load_movielens(data)
    assert any(warning in line for line in dataset.warnings), dataset.warnings
