"""``python -m tax_calc [FILE|-]``: read a case as JSON, print its assessment as JSON.

Exit codes: 0 assessed; 2 bad input (the message on stderr names the field).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import IO

from .engine import assess
from .errors import CaseError, TableError


def main(argv: list[str] | None = None, stdin: IO[str] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
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
        if args.file == "-":
            text = stdin.read()
        else:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        print(f"error: file: cannot read {args.file}: {exc.strerror}", file=stderr)
        return 2
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        print(f"error: json: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
              file=stderr)
        return 2
    try:
        assessment = assess(data, data_dir=args.data_dir)
    except CaseError as exc:
        print(f"error: {exc.field}: {exc.message}", file=stderr)
        return 2
    except TableError as exc:
        print(f"error: data file: {exc}", file=stderr)
        return 2
    json.dump(assessment.to_dict(), stdout, ensure_ascii=False, indent=2)
    stdout.write("\n")
    return 0
