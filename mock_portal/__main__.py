"""Run the test portal: ``python -m mock_portal`` (see docs/protocols/national-portal.md)."""

from __future__ import annotations

import logging
import os

from waitress import serve

from mock_portal import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    host = os.environ.get("MOCK_PORTAL_HOST", "127.0.0.1")
    port = int(os.environ.get("MOCK_PORTAL_PORT", "5002"))
    logging.getLogger("mock_portal").info("test national portal on http://%s:%s", host, port)
    serve(app, host=host, port=port, threads=8)


if __name__ == "__main__":
    main()
