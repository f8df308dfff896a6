"""What the three contract examples (``contract_06_07.py`` .. ``contract_08_09.py``) share:
the work folder, the three mismatches of a JSON artifact, and the check that each mismatch
stops at the input gate with exit 2.

Not an example of its own: the examples import it (Python puts their folder on the path).
"""

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

#: The exit code of a stage whose input gate refuses a file (INCOMPLETE, bad input).
REFUSED = 2


def json_mismatches(work: Path, kind, file_name: str, wrong_kind, required: str) -> dict:
    """The three files a reader of ``kind`` must refuse, each ``<work>/<case>/<file_name>``:
    ``newer`` (a schema version from the future), ``wrong`` (an example of ``wrong_kind``)
    and ``missing`` (``kind``'s example without its ``required`` field)."""

    def edited(case: str, edit: Callable[[dict], object]) -> Path:
        path = kind.example().write(work / case / file_name)
        doc = json.loads(path.read_text())
        edit(doc)
        path.write_text(json.dumps(doc))
        return path

    return {
        "newer": edited("newer", lambda doc: doc.update(schema_version="9.0")),
        "wrong": wrong_kind.example().write(work / "wrong" / file_name),
        "missing": edited("missing", lambda doc: doc.pop(required)),
    }


def all_refused(run: Callable[[str, Path], int], cases: dict) -> bool:
    """Run the stage on every case (``run(experiment, path)``, all of them, each printing its
    line); true when every one stopped at the gate."""
    codes = [run(name, path) for name, path in cases.items()]
    return all(code == REFUSED for code in codes)


def main_in_work_dir(main: Callable[[Path], int]) -> None:
    """``main(work)`` in the folder given as the first argument (default: a new temporary
    one), exiting with its result."""
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    sys.exit(main(work))
