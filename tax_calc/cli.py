"""``python -m tax_calc [FILE|-]``: read a case as JSON, print its assessment as JSON.

Exit codes: 0 assessed; 2 bad input (one line on stderr, ``error: FIELD: message``); 3 a
fault in the engine itself (one line on stderr, ``error: internal: ...``). Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO

from .engine import assess
from .errors import CaseError, TableError
from .parse import MAX_JSON_CHARS, load_json


def _read(args: argparse.Namespace, stdin: IO[str]) -> str:
    """The case's text, at most one character more than ``MAX_JSON_CHARS`` (``load_json``
    refuses it then), so a huge file is never read whole."""
    if args.file == "-":
        return stdin.read(MAX_JSON_CHARS + 1)
    with open(args.file, encoding="utf-8") as fh:
        return fh.read(MAX_JSON_CHARS + 1)


def main(argv: list[str] | None = None, stdin: IO[str] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    if stdout is None and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # the output is UTF-8 whatever the locale
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m tax_calc",
                                     description="Assess a land case given as JSON.")
    parser.add_argument("file", nargs="?", default="-", help="case JSON file, or - for stdin")
    parser.add_argument("--data-dir", default=None,
                        help="folder of versioned data files (default: the project's data/)")
    args = parser.parse_args(argv)
    try:
        text = _read(args, stdin)
    except OSError as exc:
        print(f"error: file: cannot read {args.file}: {exc.strerror}", file=stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"error: file: {args.file} is not UTF-8 text (byte {exc.start + 1})", file=stderr)
        return 2
    try:
        data = load_json(text)
        assessment = assess(data, data_dir=args.data_dir)
        output = json.dumps(assessment.to_dict(), ensure_ascii=False, indent=2)
    except CaseError as exc:
        print(f"error: {exc.field}: {exc.message}", file=stderr)
        return 2
    except TableError as exc:
        print(f"error: data file: {exc}", file=stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a fault of ours: one clear line, no traceback
        print(f"error: internal: {type(exc).__name__}: {exc!s}"[:500].replace("\n", " "),
              file=stderr)
        return 3
    stdout.write(output + "\n")
    return 0
