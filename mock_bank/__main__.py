"""Run the test bank: ``python -m mock_bank`` (see docs/protocols/bank-gateway.md, 6.1)."""

from __future__ import annotations

import logging
import os

from waitress import serve

from mock_bank import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    host = os.environ.get("MOCK_BANK_HOST", "127.0.0.1")
    port = int(os.environ.get("MOCK_BANK_PORT", "5001"))
    merchants = ", ".join(app.extensions["mock_bank"]["config"]["MERCHANTS"]) or "none"
    logging.getLogger("mock_bank").info(
        "test bank on http://%s:%s (merchants: %s)", host, port, merchants
    )
    serve(app, host=host, port=port, threads=8)


if __name__ == "__main__":
    main()
