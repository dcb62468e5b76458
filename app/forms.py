"""Form fields shared by the pages."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

#: Digits, or digits in groups of three separated by dots, commas or spaces, as people write
#: amounts of dong ("3.000.000.000", "3,000,000,000", "3 000 000 000").
_GROUPED = re.compile(r"[0-9]{1,3}(?:([.,\u00a0 ])[0-9]{3})(?:\1[0-9]{3})*")


class AmountField(IntegerField):
    """A whole amount of dong, typed with or without thousand separators; anything else (a
    decimal part, mixed separators, letters) is refused with a message saying how to write it."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if not text:
            self.data = None
            return
        if text.isascii() and text.isdigit():
            self.data = int(text)
            return
        if _GROUPED.fullmatch(text):
            self.data = int(re.sub(r"[^0-9]", "", text))
            return
        self.data = None
        raise ValueError(_l("Enter a whole amount of dong, such as 3.000.000.000."))
