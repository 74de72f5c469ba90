"""A seeded mutation fuzzer over the shipped scenarios: every mutant loads or is refused in place.

Each mutant is a shipped scenario with one to three random edits (lines deleted, duplicated,
swapped, re-indented or truncated; numbers made zero, negative, huge, fractional, text or
boolean; keys renamed; stray bytes inserted). A mutant must either load, or raise the
package's own :class:`ScenarioError` whose every problem points at a line inside the file;
accepted mutants are run for a short while and must finish. ``--fuzz-n 10000`` (or
``DAGSIM_FUZZ_N``) makes it a long run; the default keeps it to seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config import ScenarioError, load_scenario
from dagsim.model.simulation import Simulation

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "scenarios").rglob("*.yaml"))
FUZZ_SEED = 20261203
RUN_AT_MOST = 3 * 3600.0

REPLACEMENTS = [
    b"0", b"-1", b"-0.5", b"0.0001", b"1.5", b"1e400", b"9" * 400, b"1e9", b".inf", b"-.inf", b".nan",
    b"yes", b"off", b"true", b"~", b"", b"abc", b"[]", b"{}", b"0s", b"1ms", b"500y", b"0B", b"1PB",
    b"0bps", b"99999999999Tbps", b"*x", b"&x 1", b"!!python/object:os.system", b"'", b'"', b"{", b"[",
]
INSERTIONS = [b"\x00", b"\xff\xfe", b"\t", b": ", b"- ", b"{", b"}", b"[", b"]", b"#", b"&a ", b"*a", b"!!str ", b"\n", b"---\n", b"? "]
NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[a-zA-Z]+)?")
KEY = re.compile(rb"^(\s*-?\s*)([a-z_]+):", re.MULTILINE)


def _mutate(text: bytes, rng: np.random.Generator) -> bytes:
    for _ in range(int(rng.integers(1, 4))):
        lines = text.split(b"\n")
        i, j = (int(v) for v in rng.integers(0, len(lines), size=2))
        match int(rng.integers(0, 9)):
            case 0:
                del lines[i]
            case 1:
                lines.insert(i, lines[i])
            case 2:
                lines[i], lines[j] = lines[j], lines[i]
            case 3:
                lines[i] = (b"  " + lines[i]) if rng.random() < 0.5 else lines[i][2:]
            case 4:
                numbers = list(NUMBER.finditer(text))
                if numbers:
                    m = numbers[int(rng.integers(0, len(numbers)))]
                    new = REPLACEMENTS[int(rng.integers(0, len(REPLACEMENTS)))]
                    text = text[: m.start()] + new + text[m.end() :]
                    continue
            case 5:
                keys = list(KEY.finditer(text))
                if keys:
                    m = keys[int(rng.integers(0, len(keys)))]
                    name = bytearray(m.group(2))
                    name[int(rng.integers(0, len(name)))] = int(rng.integers(97, 123))
                    text = text[: m.start(2)] + bytes(name) + text[m.end(2) :]
                    continue
            case 6:
                text = text[: int(rng.integers(0, len(text) + 1))]
                continue
            case 7:
                at = int(rng.integers(0, len(text) + 1))
                text = text[:at] + INSERTIONS[int(rng.integers(0, len(INSERTIONS)))] + text[at:]
                continue
            case _:
                numbers = list(NUMBER.finditer(text))
                if numbers:  # a value swapped with another one of a different kind
                    a, b = (numbers[int(k)] for k in rng.integers(0, len(numbers), size=2))
                    text = text[: a.start()] + b.group(0) + text[a.end() :]
                    continue
        text = b"\n".join(lines)
    return text


def test_mutants_load_or_are_refused_inside_the_file_and_accepted_ones_run(tmp_path, fuzz_n):
    """Every mutant loads or raises ScenarioError located in the file; accepted mutants run to their end."""
    rng = np.random.default_rng(np.random.SeedSequence(FUZZ_SEED))
    sources = [path.read_bytes() for path in SEEDS]
    runner = CliRunner()
    accepted = rejected = ran = 0
    for n in range(fuzz_n):
        source = sources[int(rng.integers(0, len(sources)))]
        mutant = _mutate(source, rng)
        path = tmp_path / f"mutant{n}.yaml"
        path.write_bytes(mutant)
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            rejected += 1
            last = max(1, len(mutant.splitlines())) + 1
            outside = [p for p in error.problems if not 1 <= p.line <= last]
            assert not outside, f"mutant {n}: problems outside the file: {outside}\n{mutant.decode(errors='replace')}"
            if n % 10 == 0:
                result = runner.invoke(app, ["validate", str(path)])
                assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
            continue
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutant {n} raised {type(error).__name__}: {error}\n{mutant.decode(errors='replace')}")
        accepted += 1
        if accepted % 4 == 1:
            try:
                simulation = Simulation(scenario, duration=min(scenario.run.duration, RUN_AT_MOST))
            except ScenarioError:
                continue  # the shortened run breaks a rule of the file: refused, located, fine
            try:
                result = simulation.run()
            except Exception as error:  # noqa: BLE001
                pytest.fail(f"mutant {n} failed to run: {type(error).__name__}: {error}\n{mutant.decode(errors='replace')}")
            assert result.duration == min(scenario.run.duration, RUN_AT_MOST)
            ran += 1
        path.unlink()
    assert accepted + rejected == fuzz_n
    # The edits must exercise both sides, or the fuzzer tests nothing.
    assert rejected > fuzz_n // 4 and (accepted > 0 or fuzz_n < 20)
    print(f"\n{fuzz_n} mutants: {accepted} accepted ({ran} run), {rejected} refused with located problems")
