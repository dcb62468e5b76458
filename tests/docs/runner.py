"""Run the examples of a documentation page and compare their answers with the page.

The convention (docs/README.md says it for readers):

* A fenced block whose language is ``sh`` is executed. The blocks of one page run in
  order in one bash session (``set -euo pipefail``), so a variable exported by one
  block is there for the next.
* An ``http`` block that follows an ``sh`` block (prose may stand between them, no other
  block) is the answer to the last HTTP request the ``sh`` block made: its first line is
  ``HTTP/1.1 <status> <reason>``, then the headers shown, a blank line and the JSON body
  shown. The status must be equal; each header shown must be there with that value; the
  body's fields shown must be there with the values shown (fields not shown may be there
  too). ``...`` stands for anything: as a whole value, as the last item of a list (more
  items may follow), as the last member of an object, or inside a string (``"HS..."``
  is any string that begins with ``HS``). ``$NAME`` in a string is the value of the
  variable ``NAME`` after the block.
* An ``output`` block after an ``sh`` block is what the block prints: every line shown
  must be printed, in order (``...`` inside a line stands for anything).
* Every other fence (``console``, ``text``, ``json``, ``ini``, none) is shown, not run.

The answers are observed, not altered: ``curl`` is wrapped by a shell function that
keeps a copy of each request's arguments, response headers and body.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

RUN = "sh"
ANSWER = "http"
OUTPUT = "output"
ANY = "..."

FENCE = re.compile(r"^(`{3,})\s*([\w-]*)\s*$")


@dataclass
class Block:
    lang: str
    text: str
    line: int  # line of the opening fence, 1-based
    answer: Block | None = None
    output: Block | None = None


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def json(self):
        return json.loads(self.body)


@dataclass
class Mismatch:
    page: str
    line: int
    what: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return (f"{self.page}:{self.line}: {self.what}\n  expected: {self.expected}\n"
                f"  actual:   {self.actual}")


@dataclass
class PageRun:
    page: str
    blocks: list[Block]
    mismatches: list[Mismatch] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    outputs: dict[int, str] = field(default_factory=dict)


def parse(text: str) -> list[Block]:
    """The fenced blocks of a page, with each answer tied to its ``sh`` block."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        ticks, lang, start = match.group(1), match.group(2), i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != ticks:
            body.append(lines[i])
            i += 1
        i += 1
        blocks.append(Block(lang, "\n".join(body) + "\n", start + 1))
    runs: list[Block] = []
    last = None
    for block in blocks:
        if block.lang == RUN:
            runs.append(block)
        elif block.lang == ANSWER and block.text.startswith("HTTP/"):
            if last is None or last.lang != RUN or last.answer is not None:
                raise ValueError(f"line {block.line}: an answer must follow the sh block it answers")
            last.answer = block
            continue
        elif block.lang == OUTPUT:
            if last is None or last.lang != RUN or last.output is not None:
                raise ValueError(f"line {block.line}: an output block must follow the sh block")
            last.output = block
            continue
        last = block
    return runs


# --- expected values ------------------------------------------------------------------------

def load_expected(text: str):
    """JSON where a bare ``...`` (outside strings) is any value, more items at the end of
    a list, or more members of an object."""
    out, stack, last, i = [], [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            last, i = '"', j + 1
            continue
        if text.startswith("...", i):
            member = stack and stack[-1] == "{" and last != ":"
            out.append('"\u2026": "..."' if member else '"..."')
            last, i = '"', i + 3
            continue
        if ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
        if not ch.isspace():
            last = ch
        out.append(ch)
        i += 1
    return json.loads("".join(out))


def _str_matches(pattern: str, actual: str) -> bool:
    if ANY not in pattern:
        return pattern == actual
    regex = ".*".join(re.escape(part) for part in pattern.split(ANY))
    return re.fullmatch(regex, actual, re.DOTALL) is not None


def expand(value: str, env: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name not in env:
            raise KeyError(f"${name} is not set after the block")
        return env[name]

    return re.sub(r"\$\{(\w+)\}|\$([A-Z_][A-Z0-9_]*)", sub, value)


def differences(expected, actual, env: dict[str, str], where: str = "") -> list[str]:
    """Where ``actual`` does not show what ``expected`` shows (empty: it matches)."""
    if expected == ANY:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where or 'body'}: expected an object, got {json.dumps(actual, ensure_ascii=False)[:200]}"]
        found = []
        for key, value in expected.items():
            if key in ("\u2026", ANY):
                continue
            if key not in actual:
                found.append(f"{where}.{key}: missing")
            else:
                found += differences(value, actual[key], env, f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {json.dumps(actual, ensure_ascii=False)[:200]}"]
        return _list_differences(expected, actual, env, where, 0, 0)
    if isinstance(expected, str) and isinstance(actual, str):
        if _str_matches(expand(expected, env), actual):
            return []
    elif type(expected) is type(actual) and expected == actual:
        return []
    return [f"{where}: expected {json.dumps(expected, ensure_ascii=False)}, "
            f"got {json.dumps(actual, ensure_ascii=False)[:300]}"]


def _list_differences(expected: list, actual: list, env, where: str, i: int, j: int) -> list[str]:
    """Items in order; a ``...`` item stands for any number of items (none too)."""
    if i == len(expected):
        return [] if j == len(actual) else [f"{where}: {len(actual) - j} more item(s) than shown"]
    if expected[i] == ANY:
        first = None
        for k in range(j, len(actual) + 1):
            found = _list_differences(expected, actual, env, where, i + 1, k)
            if not found:
                return []
            first = first or found
        return first or []
    if j == len(actual):
        return [f"{where}: fewer items than shown (item {i} is missing)"]
    found = differences(expected[i], actual[j], env, f"{where}[{j}]")
    return found or _list_differences(expected, actual, env, where, i + 1, j + 1)


def parse_answer(block: Block) -> tuple[int, dict[str, str], str]:
    head, _sep, body = block.text.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body.strip()


# --- running --------------------------------------------------------------------------------

PRELUDE = r"""
set -euo pipefail
__lp_call=0
curl() {
  local d
  d="$__LP/calls/$(date +%s%N)-$BASHPID-$RANDOM"
  mkdir -p "$d"
  printf '%s\0' "$@" > "$d/args"
  command curl -D "$d/headers" "$@" | tee "$d/body"
}
"""


def script_for(blocks: list[Block], work: Path) -> str:
    parts = [f"__LP={shlex.quote(str(work))}", PRELUDE]
    for n, block in enumerate(blocks):
        d = shlex.quote(str(work / f"block{n}"))
        parts.append(
            f'mkdir -p {d} "$__LP/calls"; echo {n} > "$__LP/started"\n'
            f"{{\n{block.text}\n}} > {d}/stdout 2> {d}/stderr\n"
            f'mv "$__LP/calls" {d}/calls; env -0 > {d}/env\n'
        )
    parts.append('echo done > "$__LP/started"\n')
    return "\n".join(parts)


def _parse_args(args: list[str]) -> tuple[str, str]:
    method, url, has_data = None, None, False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-X", "--request"):
            method = args[i + 1]
            i += 2
            continue
        if a in ("-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--json", "-F", "--form"):
            has_data = True
            i += 2
            continue
        if a in ("-H", "--header", "-o", "--output", "-w", "--write-out", "-b", "-c", "--cookie",
                 "--cookie-jar", "-u", "--user", "-D", "--dump-header", "-m", "--max-time"):
            i += 2
            continue
        if a.startswith(("http://", "https://")):
            url = a
        i += 1
    return method or ("POST" if has_data else "GET"), url or ""


def _exchanges(calls: Path) -> list[Exchange]:
    found = []
    if not calls.is_dir():
        return found
    for d in sorted(calls.iterdir(), key=lambda p: int(p.name.split("-")[0])):
        args = (d / "args").read_bytes().decode().split("\0")[:-1]
        method, url = _parse_args(args)
        raw = (d / "headers").read_text(errors="replace") if (d / "headers").exists() else ""
        # After a redirect or a 100 Continue, the last response is the one that counts.
        chunks = [c for c in re.split(r"\r?\n\r?\n", raw) if c.startswith("HTTP/")]
        status, headers = 0, {}
        if chunks:
            lines = chunks[-1].splitlines()
            status = int(lines[0].split()[1])
            for line in lines[1:]:
                name, _colon, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = (d / "body").read_text(errors="replace") if (d / "body").exists() else ""
        found.append(Exchange(method, url, status, headers, body))
    return found


def run_page(page: str, text: str, work: Path, env: dict[str, str], cwd: Path,
             timeout: float = 120) -> PageRun:
    """Run every ``sh`` block of ``text``; return the mismatches found."""
    blocks = parse(text)
    result = PageRun(page, blocks)
    work.mkdir(parents=True, exist_ok=True)
    script = work / "page.sh"
    script.write_text(script_for(blocks, work))
    done = subprocess.run(["bash", str(script)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    started = (work / "started").read_text().strip() if (work / "started").exists() else "0"
    for n, block in enumerate(blocks):
        d = work / f"block{n}"
        if started != "done" and n >= int(started):
            stderr = (d / "stderr").read_text() if (d / "stderr").exists() else done.stderr
            stdout = (d / "stdout").read_text() if (d / "stdout").exists() else ""
            result.mismatches.append(Mismatch(page, block.line, "the block failed (set -euo pipefail)",
                                              "exit status 0", f"exit status {done.returncode}; "
                                              f"stderr: {stderr[-1500:]!r}; stdout: {stdout[-500:]!r}"))
            break
        exchanges = _exchanges(d / "calls")
        result.exchanges += exchanges
        result.outputs[n] = (d / "stdout").read_text()
        block_env = dict(x.split("=", 1) for x in (d / "env").read_text().split("\0") if "=" in x)
        result.mismatches += check_block(page, block, exchanges, result.outputs[n], block_env)
    return result


def check_block(page: str, block: Block, exchanges: list[Exchange], stdout: str,
                env: dict[str, str]) -> list[Mismatch]:
    found: list[Mismatch] = []
    if block.output is not None:
        lines = stdout.splitlines()
        pos = 0
        for want in block.output.text.splitlines():
            want = want.rstrip()
            if not want:
                continue
            while pos < len(lines) and not _str_matches(expand(want, env), lines[pos].rstrip()):
                pos += 1
            if pos == len(lines):
                found.append(Mismatch(page, block.output.line, "a line shown is not printed",
                                      want, stdout[-1500:]))
                break
            pos += 1
    if block.answer is None:
        return found
    line = block.answer.line
    if not exchanges:
        return [*found, Mismatch(page, line, "no HTTP request was made", "an answer", "none")]
    got = exchanges[-1]
    status, headers, body = parse_answer(block.answer)
    if got.status != status:
        found.append(Mismatch(page, line, f"status of {got.method} {got.path}", str(status),
                              f"{got.status} {got.body[:500]}"))
    for name, value in headers.items():
        actual = got.headers.get(name)
        if actual is None or not _str_matches(expand(value, env), actual):
            found.append(Mismatch(page, line, f"header {name} of {got.method} {got.path}", value, str(actual)))
    if body:
        expected = load_expected(body)
        try:
            actual_body = got.json()
        except ValueError:
            found.append(Mismatch(page, line, f"body of {got.method} {got.path} is not JSON", body[:300],
                                  got.body[:300]))
            return found
        for diff in differences(expected, actual_body, env):
            found.append(Mismatch(page, line, f"body of {got.method} {got.path}", diff,
                                  json.dumps(actual_body, ensure_ascii=False)[:600]))
    return found


def shell_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("LANDPAY", "MOCK_BANK_", "BANK_"))}
    env.update(extra)
    env["PATH"] = str(Path(os.sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env
