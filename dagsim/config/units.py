"""Human units in scenario files: durations, bandwidths and sizes.

Internally dagsim uses seconds, bytes per second and bytes. Scenario files use the units an
Exchange administrator writes (``30s``, ``200Mbps``, ``2TB``); a bare number is taken in the
base unit (seconds, bits per second, bytes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = [
    "Bandwidth",
    "Count",
    "DURATION_JSON_SCHEMA",
    "Duration",
    "MAX_BANDWIDTH",
    "MAX_DURATION",
    "MAX_SIZE",
    "Number",
    "Size",
    "format_duration",
    "parse_bandwidth",
    "parse_duration",
    "parse_moment",
    "short_duration",
    "parse_size",
]

_NUMBER = r"(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    # Failure figures are quoted per year (MTBF 5y, AFR); a year is 365 days, no leap days.
    "y": 365 * 86400.0,
}
# Bandwidths are written in bits per second, as network people do; dagsim stores bytes/s.
_BANDWIDTH_UNITS = {
    "bps": 1.0,
    "kbps": 1e3,
    "mbps": 1e6,
    "gbps": 1e9,
}
# Decimal units would surprise administrators, whose volumes and log files are binary.
_SIZE_UNITS = {
    "b": 1,
    "kb": 1024,
    "mb": 1024**2,
    "gb": 1024**3,
    "tb": 1024**4,
}

# Physical ranges, checked here once for every unit value in a scenario and on the command
# line. Beyond them a number is a typo (or an attack), and would overflow to infinity in
# arithmetic downstream. Documented in docs/scenario-reference.md ("Limits").
MAX_DURATION = 1000 * 365 * 86400.0  # 1000 years: room for MTBFs quoted in centuries
MAX_BANDWIDTH = 1e12 / 8  # 1 Tbit/s, in bytes per second
MAX_SIZE = float(1024**5)  # 1 PB
MAX_NUMBER = 1e15  # any other plain number (rates, counts per day, ratios)

_DURATION_PART = re.compile(_NUMBER + r"\s*(?P<unit>[a-z]+)")


def _reject(kind: str, value: object, example: str) -> ValueError:
    return ValueError(f"expected a {kind} such as {example!r}, got {value!r}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _non_negative(number: float, kind: str, value: object) -> float:
    # YAML reads .inf and .nan as numbers; neither is a time, rate or size to simulate.
    if not math.isfinite(number):
        raise ValueError(f"a {kind} must be a finite number, got {_shown(value)}")
    if number < 0:
        raise ValueError(f"a {kind} cannot be negative, got {_shown(value)}")
    return number


def _within(number: float, limit: float, kind: str, value: object, shown_limit: str) -> float:
    if not math.isfinite(number) or number > limit:
        raise ValueError(f"a {kind} can be at most {shown_limit}, got {_shown(value)}")
    return number


def parse_duration(value: object) -> float:
    """Seconds from ``'90s'``, ``'5m'``, ``'1h30m'``, ``'7d'`` or a number of seconds (at most 1000 years)."""
    return _within(_duration(value), MAX_DURATION, "duration", value, "1000y")


_CLOCK = re.compile(r"^(?:(?P<days>[0-9]+)d\s*)?(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}(?:\.[0-9]*)?))?$")


def parse_moment(value: object) -> float:
    """A moment of the run in seconds: a duration from its start (``'16h'``, ``'1d2h30m'``, a
    number of seconds) or a clock time as dagsim prints them (``'16:00'``, ``'0d 16:00:00'``,
    ``'2d 09:30'``)."""
    if isinstance(value, str) and (match := _CLOCK.match(value.strip().lower())):
        hours, minutes = int(match.group("h")), int(match.group("m"))
        seconds = float(match.group("s") or 0)
        if hours > 23 or minutes > 59 or seconds >= 60:
            raise ValueError(f"invalid clock time {value!r}: hours 0-23, minutes and seconds 0-59")
        total = int(match.group("days") or 0) * 86400.0 + hours * 3600.0 + minutes * 60.0 + seconds
        return _within(total, MAX_DURATION, "duration", value, "1000y")
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(
            f"invalid time {value!r}: write a duration from the start (e.g. 16h, 1d2h30m) or a clock time "
            "(e.g. 16:00, 1d 09:30:00)"
        ) from None


def _to_float(value: int | float) -> float:
    # A YAML integer of hundreds of digits does not fit a float: it is out of range, not a crash.
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _duration(value: object) -> float:
    if isinstance(value, bool):
        raise _reject("duration", value, "30s")
    if isinstance(value, int | float):
        return _non_negative(_to_float(value), "duration", value)
    if not isinstance(value, str):
        raise _reject("duration", value, "30s")
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise _reject("duration", value, "30s")
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position or match.group("unit") not in _DURATION_UNITS:
            raise _reject("duration", value, "30s")
        total += float(match.group("num")) * _DURATION_UNITS[match.group("unit")]
        position = match.end()
    if position != len(text):
        raise _reject("duration", value, "30s")
    return total


def _parse_with_units(value: object, units: Mapping[str, float], kind: str, example: str) -> float:
    if isinstance(value, bool):
        raise _reject(kind, value, example)
    if isinstance(value, int | float):
        return _non_negative(_to_float(value), kind, value)
    if not isinstance(value, str):
        raise _reject(kind, value, example)
    match = re.fullmatch(_NUMBER + r"\s*(?P<unit>[a-zA-Z]*)", value.strip())
    if match is None:
        raise _reject(kind, value, example)
    unit = match.group("unit").lower() or next(iter(units))
    if unit not in units:
        raise ValueError(f"unknown {kind} unit {match.group('unit')!r} in {value!r}; use one of {', '.join(units)}")
    return float(match.group("num")) * units[unit]


def parse_bandwidth(value: object) -> float:
    """Bytes per second from ``'100Mbps'``, ``'1Gbps'`` or a number of bits per second."""
    if isinstance(value, str) and "Bps" in value:
        # Units are matched case-insensitively, and 'MBps' (bytes) read as 'Mbps' is 8x off.
        raise ValueError(
            f"{value!r} is in bytes per second; write bandwidth in bits per second, e.g. '100Mbps'"
        )
    bits = _parse_with_units(value, _BANDWIDTH_UNITS, "bandwidth", "100Mbps")
    return _within(bits / 8.0, MAX_BANDWIDTH, "bandwidth", value, "1Tbps")


def parse_size(value: object) -> float:
    """Bytes from ``'1MB'``, ``'500GB'``, ``'2TB'`` (binary multiples) or a number of bytes."""
    return _within(_parse_with_units(value, _SIZE_UNITS, "size", "500GB"), MAX_SIZE, "size", value, "1PB")


def format_duration(seconds: float) -> str:
    """A short human form (``'1d2h'``, ``'45s'``, ``'1.5s'``) for reports and messages."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:.3g}s"
    rest = int(round(seconds))
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _plain(number: float) -> str:
    # Shortest exact decimal, never in exponent form (scenario files do not take exponents).
    # repr is the shortest text that reads back as the same float; Decimal writes it out.
    number = float(number)
    if not math.isfinite(number):
        return repr(number)
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _exact(value: float, units: tuple[tuple[str, float], ...], base: str) -> str:
    """``value`` in the largest unit that writes it exactly, so a dumped scenario loads back the same."""
    for suffix, factor in units:
        if value >= factor:
            text = _plain(value / factor)
            if float(text) * factor == value:
                return text + suffix
    return _plain(value) + base


def _serialize_duration(seconds: float) -> str:
    if seconds == int(seconds) and seconds >= 1:
        return format_duration(seconds)
    return _plain(seconds) + "s"


def _format_bandwidth(bytes_per_second: float) -> str:
    return _exact(bytes_per_second * 8, (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)), "bps")


def _format_size(size: float) -> str:
    return _exact(size, (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)), "B")


DURATION_JSON_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*([0-9.]+\s*(ms|s|sec|m|min|h|d|w|y)\s*)+$"},
        {"type": "number", "minimum": 0},
    ],
    "description": "duration, e.g. 30s, 5m, 2h, 7d, 5y (a bare number is seconds)",
}
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(_serialize_duration, return_type=str),
    WithJsonSchema(DURATION_JSON_SCHEMA),
]
Bandwidth = Annotated[
    float,
    BeforeValidator(parse_bandwidth),
    PlainSerializer(_format_bandwidth, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[0-9.]+\s*([kKmMgG]?bps)\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "bandwidth, e.g. 100Mbps, 1Gbps (a bare number is bits per second)",
        }
    ),
]
Size = Annotated[
    float,
    BeforeValidator(parse_size),
    PlainSerializer(_format_size, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[0-9.]+\s*([kKmMgGtT]?[bB])\s*$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "size, e.g. 1MB, 500GB, 2TB (binary multiples; a bare number is bytes)",
        }
    ),
]


def _strict_int(value: object) -> object:
    # YAML 1.1 reads yes/no/on/off as booleans, and pydantic would take them as 1 and 0.
    if isinstance(value, bool):
        raise ValueError(f"should be a valid integer, got {'true' if value else 'false'} (YAML reads yes/no/on/off as booleans)")
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_NUMBER:
        return int(value)
    if not isinstance(value, int):
        raise ValueError(f"should be a valid integer, got {_shown(value)}")
    return value


def _strict_number(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"should be a valid number, got {'true' if value else 'false'} (YAML reads yes/no/on/off as booleans)")
    if isinstance(value, str):
        # YAML 1.1 reads 1e9 (no dot) as text although everyone means a number.
        try:
            value = float(value.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"should be a valid number, got {_shown(value)}") from None
    if not isinstance(value, int | float):
        raise ValueError(f"should be a valid number, got {_shown(value)}")
    number = _to_float(value)
    if not math.isfinite(number):
        raise ValueError(f"should be a finite number, got {_shown(value)}")
    if abs(number) > MAX_NUMBER:
        raise ValueError(f"should be at most {MAX_NUMBER:g}, got {_shown(value)}")
    return number


#: A whole number in a scenario: booleans and fractions are type errors, not 1 and 0.
Count = Annotated[int, BeforeValidator(_strict_int)]
#: A plain number in a scenario: finite, not a boolean, at most 1e15 in size.
Number = Annotated[float, BeforeValidator(_strict_number)]


def short_duration(seconds: float) -> str:
    """A duration for tables: ``'26s'``, ``'2.5s'``, ``'44m'``, ``'2h10m'`` (whole seconds from a minute)."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    return format_duration(round(seconds))
