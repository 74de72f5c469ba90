"""How long does the command line take to start? ``dagsim validate`` on the quickstart scenario.

Each case runs in a fresh process, ``--repeat`` times; the median wall time is printed next
to a bare ``python -c pass`` so the figure can be read against the interpreter's own start.

    python benchmarks/startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "dagsim --help": [sys.executable, "-m", "dagsim", "--help"],
    "dagsim validate quickstart": [sys.executable, "-m", "dagsim", "validate", str(SCENARIO)],
}


def median_wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'case':<28} {'median wall':>12}")
    for name, command in CASES.items():
        print(f"{name:<28} {median_wall(command, args.repeat):>11.3f}s")


if __name__ == "__main__":
    main()
