"""Human units in scenario files: durations, bandwidths, sizes."""

import math

import pytest

from dagsim.config.units import (
    format_duration,
    parse_bandwidth,
    parse_duration,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("5min", 300.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("1d2h3m4s", 86400 + 7200 + 180 + 4),
        ("10S", 10.0),
    ],
)
def test_duration_strings(text, seconds):
    """Duration strings with one or more unit parts add up to seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("number", "seconds"), [(90, 90.0), (0, 0.0), (2.5, 2.5)])
def test_bare_number_duration_is_seconds(number, seconds):
    """A bare number is a duration in seconds."""
    assert parse_duration(number) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "h", "1h30", "-5s", "1x", "30s!", "1e3s"])
def test_bad_duration_strings_are_rejected(bad):
    """Malformed durations raise ValueError naming the value and an example."""
    with pytest.raises(ValueError, match="expected a duration such as '30s'") as info:
        parse_duration(bad)
    assert repr(bad) in str(info.value)


def test_negative_duration_number_is_rejected():
    """A negative number of seconds is an error, not a time in the past."""
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(-1)


@pytest.mark.parametrize("parse", [parse_duration, parse_bandwidth, parse_size])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_rejected(parse, value):
    """YAML booleans (yes/no/on/off) are never read as 1 or 0."""
    with pytest.raises(ValueError, match="expected a"):
        parse(value)


@pytest.mark.parametrize("parse", [parse_duration, parse_bandwidth, parse_size])
@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_non_finite_numbers_are_rejected(parse, value):
    """YAML's .inf and .nan are not usable durations, bandwidths or sizes."""
    with pytest.raises(ValueError, match="finite"):
        parse(value)


@pytest.mark.parametrize("parse", [parse_duration, parse_bandwidth, parse_size])
def test_non_scalars_are_rejected(parse):
    """Lists and mappings are not units."""
    with pytest.raises(ValueError, match="expected a"):
        parse([1, 2])


@pytest.mark.parametrize(
    ("text", "bytes_per_second"),
    [
        ("100Mbps", 12.5e6),
        ("1Gbps", 125e6),
        ("1gbps", 125e6),
        ("64kbps", 8000.0),
        ("800bps", 100.0),
        ("200 Mbps", 25e6),
        ("8000", 1000.0),
        (8000, 1000.0),
    ],
)
def test_bandwidth_bits_become_bytes(text, bytes_per_second):
    """Bandwidth is written in bits per second and stored in bytes per second."""
    assert parse_bandwidth(text) == pytest.approx(bytes_per_second)


def test_bandwidth_unknown_unit_lists_units():
    """An unknown bandwidth unit names the unit and lists the valid ones."""
    with pytest.raises(ValueError, match=r"unknown bandwidth unit 'Mbs'.*bps, kbps, mbps, gbps"):
        parse_bandwidth("100Mbs")


def test_bandwidth_in_bytes_per_second_is_rejected():
    """'MBps' (bytes) is refused rather than silently read as megabits."""
    with pytest.raises(ValueError, match="bytes per second"):
        parse_bandwidth("5MBps")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1KB", 1024),
        ("1MB", 1024**2),
        ("500GB", 500 * 1024**3),
        ("2TB", 2 * 1024**4),
        ("1.5kb", 1536),
        ("12B", 12),
        ("12", 12),
        (4096, 4096),
    ],
)
def test_sizes_are_binary(text, size):
    """Size units are binary multiples (1KB = 1024 bytes); a bare number is bytes."""
    assert parse_size(text) == size


def test_size_unknown_unit():
    """An unknown size unit is reported with the valid ones."""
    with pytest.raises(ValueError, match=r"unknown size unit 'PB'.*b, kb, mb, gb, tb"):
        parse_size("3PB")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (45, "45s"), (1.5, "1.5s"), (5400, "1h30m"), (93600, "1d2h")]
)
def test_format_duration_round_trips(seconds, text):
    """format_duration gives the short form, which parses back to the same seconds."""
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_dumped_scenario_loads_back_identical():
    """A scenario dumped (python or JSON mode) and validated again is equal to the original, units and all."""
    from pathlib import Path

    import dagsim

    root = Path(__file__).resolve().parent.parent / "scenarios"
    for path in sorted(root.glob("*.yaml")):
        scenario = dagsim.load_scenario(path)
        for mode in ("python", "json"):
            again = dagsim.Scenario.model_validate(scenario.model_dump(mode=mode))
            assert again == scenario, (path.name, mode)


@pytest.mark.parametrize("seconds", [0.0, 0.25, 1.5, 59.999, 90.5, 3600.0, 1e-3, 7 * 86400 + 1])
def test_duration_serialization_round_trips(seconds):
    """Durations serialize to text that parses back to the same number of seconds."""
    from dagsim.config.units import _serialize_duration

    assert parse_duration(_serialize_duration(seconds)) == seconds


@pytest.mark.parametrize(
    "value,text",
    [(2.0, "2"), (0.1, "0.1"), (1e-5, "0.00001"), (1e20, "100000000000000000000"), (1 / 3, "0.3333333333333333")],
)
def test_plain_numbers_are_the_shortest_exact_decimal_without_exponent(value, text):
    """Numbers written back into scenarios read back exactly and never use exponent notation."""
    from dagsim.config.units import _plain

    assert _plain(value) == text and float(_plain(value)) == value
