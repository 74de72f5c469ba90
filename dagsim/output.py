"""Result folders written all or nothing, and JSON that always loads back.

A run writes into a hidden staging folder beside ``--out`` and moves it into place only
when every file is written: a failed run leaves nothing behind, and a reused ``--out``
holds exactly one run's files, never a mix of two.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["OutputError", "check_output_folder", "dump_json", "jsonable", "staged_folder"]

# Names of the files of the last run written into a folder, so that the next run into the
# same folder removes them (and only them: other files in the folder are left alone).
MANIFEST = ".dagsim-files"


class OutputError(ValueError):
    """``--out`` cannot be used: it is a file, or a folder of someone else's files."""


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as null: JSON has neither."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump_json(value: Any) -> str:
    """Strict JSON text (never ``NaN`` or ``Infinity`` tokens), indented, with a final newline."""
    return json.dumps(jsonable(value), indent=2, allow_nan=False) + "\n"


def check_output_folder(target: Path) -> None:
    """Raise :class:`OutputError` if ``target`` cannot become a result folder."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder")


@contextmanager
def staged_folder(directory: str | Path) -> Iterator[Path]:
    """A fresh folder to write into, moved to ``directory`` when the block ends without error.

    A new ``directory`` appears whole, in one rename. Into an existing one, the files of the
    previous dagsim run there are removed and the new files moved in; files dagsim did not
    write are left alone. On an error nothing changes at ``directory``.
    """
    target = Path(directory)
    check_output_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield staging
        names = sorted(p.name for p in staging.iterdir())
        (staging / MANIFEST).write_text("".join(f"{name}\n" for name in names))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not target.exists():
        staging.rename(target)
        return
    previous = target / MANIFEST
    if previous.is_file():
        for name in previous.read_text().splitlines():
            stale = target / name
            # Only plain names from our own manifest; never follow a path out of the folder.
            if name and "/" not in name and name not in (".", "..") and name not in names and stale.is_file():
                stale.unlink()
    for name in [*names, MANIFEST]:
        (staging / name).replace(target / name)
    shutil.rmtree(staging, ignore_errors=True)
