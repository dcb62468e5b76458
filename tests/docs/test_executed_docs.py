"""Every runnable example of README.md and docs/ is run against the real processes,
started as ``make run`` starts them (scripts/run_local.py after migrate and seed-demo), on
SQLite and on PostgreSQL; an answer that no longer matches its page fails the test.

The conventions are in tests/docs/runner.py and docs/README.md. The OpenAPI document's
examples are checked against the answers the same operations gave here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.runner import Exchange, _str_matches, differences, parse, run_page, shell_env
from tests.stack import ROOT, local_env, seed, start_local

pytestmark = pytest.mark.e2e

#: In the order a reader meets them; the pages share nothing but the running processes.
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "counterparts").glob("*.md"),
     *(ROOT / "docs" / "protocols").glob("*.md")],
    key=lambda p: (p.name != "README.md", p.name != "quickstart-api.md", str(p)),
)
#: Pages that must show at least one executed example.
MUST_RUN = {"README.md", "docs/quickstart-api.md", "docs/api.md", "docs/counterparts/bank.md",
            "docs/counterparts/registry-systems.md", "docs/counterparts/national-portal.md",
            "docs/operations.md", "docs/tax-cli.md"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def running(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"docs-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'landpay.db'}"
    else:
        from tests.conftest import _postgres_database, worker_id

        url = _postgres_database(f"landpay_docs_{worker_id()}")
    env = local_env(tmp, url)
    seed(env)
    run = start_local(tmp, env)
    shell = shell_env(env, LANDPAY=run.app_url, BANK=run.bank_url,
                      PORTAL=f"http://127.0.0.1:{env['MOCK_PORTAL_PORT']}", HOME=str(tmp))
    yield run, shell, tmp
    assert run.stop() == 0, run.log.read_text()[-2000:]


def test_every_page_follows_the_conventions():
    """Answers stand right after the block they answer, and the pages that must show
    executed examples have them."""
    for page in PAGES:
        blocks = parse(page.read_text())  # raises on a misplaced answer
        if rel(page) in MUST_RUN:
            assert blocks, f"{rel(page)} has no executed (sh) example"
        for block in blocks:
            assert "127.0.0.1:5000" not in block.text.replace("${LANDPAY:-http://127.0.0.1:5000}", ""), \
                f"{rel(page)}:{block.line}: use $LANDPAY, not a fixed address"


def test_examples_answer_as_the_pages_say(running):
    run, shell, tmp = running
    problems, exchanges = [], []
    for page in PAGES:
        if not parse(page.read_text()):
            continue
        result = run_page(rel(page), page.read_text(), tmp / "pages" / rel(page).replace("/", "_"), shell, cwd=ROOT)
        problems += result.mismatches
        exchanges += result.exchanges
    assert not problems, "\n\n".join(str(p) for p in problems)
    check_openapi_examples(exchanges)


def check_openapi_examples(exchanges: list[Exchange]) -> None:
    """Each example of the OpenAPI document is an answer the examples above received, and
    each operation they call has an example (but an image has none)."""
    from app.api.openapi import EXAMPLES, document

    missing = []
    for (path, method), example in EXAMPLES.items():
        candidates = [e for e in exchanges if e.method == method.upper() and _pattern(path).match(e.path)
                      and e.status == example["status"]]
        if not any(not _example_differences(example, e) for e in candidates):
            detail = _example_differences(example, candidates[-1]) if candidates else ["never called"]
            missing.append(f"{method.upper()} {path} ({example['status']}): {detail}")
    assert not missing, "OpenAPI examples that no executed example answered:\n" + "\n".join(missing)

    without = []
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            called = any(e.method == method.upper() and _pattern(path).match(e.path) for e in exchanges)
            if called and (path, method) not in EXAMPLES and not _answers_an_image(operation):
                without.append(f"{method.upper()} {path}")
    assert not without, "Operations the pages call that have no OpenAPI example:\n" + "\n".join(without)


def _pattern(path: str) -> re.Pattern:
    return re.compile("^/api/v1" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")


def _example_differences(example: dict, exchange: Exchange) -> list[str]:
    if example["response"] is None:
        return [] if not exchange.body else [f"expected no body, got {exchange.body[:200]!r}"]
    media_type = example.get("media_type", "application/json")
    if media_type != "application/json":
        if not exchange.headers.get("content-type", "").startswith(media_type):
            return [f"expected {media_type}, got {exchange.headers.get('content-type')}"]
        return [] if _str_matches(example["response"], exchange.body) else \
            [f"body: expected {example['response']!r}, got {exchange.body[:200]!r}"]
    return differences(example["response"], _json(exchange), {})


def _answers_an_image(operation: dict) -> bool:
    content = operation["responses"].get("200", {}).get("content", {})
    return bool(content) and all(media.startswith("image/") for media in content)


def _json(exchange: Exchange):
    try:
        return exchange.json()
    except ValueError:
        return None


SELF_TEST = """\
# A page whose expectation is wrong

```sh
curl -s "$LANDPAY/healthz"
```

```http
HTTP/1.1 200 OK

{"status": "broken"}
```

```sh
curl -s "$LANDPAY/api/v1/me"
```

```http
HTTP/1.1 200 OK
```

```sh
printf 'one\\ntwo\\n'
```

```output
three
```

```sh
false
echo never
```
"""


def test_the_checker_reports_a_wrong_expectation(running):
    """The test can fail: wrong fields, a wrong status, a missing line and a failing
    command are each reported with the page, the line, the expected and the actual."""
    run, shell, tmp = running
    result = run_page("self-test.md", SELF_TEST, tmp / "pages" / "self-test", shell, cwd=tmp)
    found = [(m.line, m.expected, m.actual) for m in result.mismatches]
    text = "\n".join(str(m) for m in result.mismatches)
    assert "self-test.md:7: body of GET /healthz" in text
    assert any(line == 7 and '"broken"' in expected and '"ok"' in actual for line, expected, actual in found)
    assert any(line == 17 and expected == "200" and actual.startswith("401") for line, expected, actual in found)
    assert any(line == 25 and expected == "three" for line, expected, actual in found)
    assert "self-test.md:29: the block failed" in text
    assert len(result.mismatches) == 4, text
