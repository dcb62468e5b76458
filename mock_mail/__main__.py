"""Run the mail sink: SMTP on MOCK_MAIL_SMTP_PORT (default 1025), the web page, the JSON and the
SMS gateway on MOCK_MAIL_PORT (default 5003), both on loopback."""

from __future__ import annotations

import logging
import os

from aiosmtpd.controller import Controller
from waitress import serve

from mock_mail import SinkHandler, Store, create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    host = os.environ.get("MOCK_MAIL_HOST", "127.0.0.1")
    smtp_port = int(os.environ.get("MOCK_MAIL_SMTP_PORT", "1025"))
    web_port = int(os.environ.get("MOCK_MAIL_PORT", "5003"))
    store = Store()
    smtp = Controller(SinkHandler(store), hostname=host, port=smtp_port)
    smtp.start()
    logging.getLogger("mock_mail").info("mail sink: SMTP %s:%s, web http://%s:%s", host, smtp_port, host, web_port)
    try:
        serve(create_app(store), host=host, port=web_port, threads=4)
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
