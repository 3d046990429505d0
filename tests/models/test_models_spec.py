import pytest

from sparsenet.errors import ConfigError
from sparsenet.models import format_layer_spec, parse_layer_spec


@pytest.mark.parametrize(
    "spec, sizes",
    [
        ("784-300-100-10", [784, 300, 100, 10]),
        ("2-1", [2, 1]),
        (" 40-8-10 ", [40, 8, 10]),
        ("007-3", [7, 3]),
    ],
)
def test_parse_valid(spec, sizes):
    assert parse_layer_spec(spec) == sizes


@pytest.mark.parametrize(
    "spec, bad_part",
    [
        ("784--10", None),  # empty part
        ("784-abc-10", "'abc'"),
        ("784-0-10", "'0'"),
        ("-5", None),
        ("784-10-", None),
        ("784-3.5-10", "'3.5'"),
        ("784-+3-10", "'+3'"),
        ("784- 3-10", "' 3'"),
    ],
)
def test_parse_malformed_names_spec_part_and_example(spec, bad_part):
    with pytest.raises(ConfigError) as info:
        parse_layer_spec(spec)
    msg = str(info.value)
    assert repr(spec) in msg
    assert "784-300-100-10" in msg  # an example of a valid spec
    if bad_part is None:
        assert "is empty" in msg
    else:
        assert bad_part in msg


def test_parse_empty_part_position():
    with pytest.raises(ConfigError, match="part 2 is empty"):
        parse_layer_spec("784--10")
    with pytest.raises(ConfigError, match="part 1 is empty"):
        parse_layer_spec("-5")


def test_parse_too_few_sizes():
    with pytest.raises(ConfigError, match="has 1 size, needs at least 2"):
        parse_layer_spec("784")
    with pytest.raises(ConfigError, match="part 1 is empty"):
        parse_layer_spec("")


def test_parse_not_a_string():
    with pytest.raises(ConfigError, match="expected a string"):
        parse_layer_spec([784, 10])


def test_format_round_trip():
    assert format_layer_spec([784, 300, 10]) == "784-300-10"
    assert parse_layer_spec(format_layer_spec([5, 4, 3])) == [5, 4, 3]
