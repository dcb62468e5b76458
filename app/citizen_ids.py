"""Citizen identity numbers (số định danh cá nhân): the one check used by the forms, the
API and the services.

A citizen id is exactly 12 ASCII digits. The first 3 are the code of the province or
centrally-run city where the birth was registered (Decree 137/2015/NĐ-CP art. 7; the codes
are those of the appendix of Circular 07/2016/TT-BCA; the later Circular 59/2021/TT-BCA is
said to keep them, not yet checked against its text).
The 63 codes below are the provinces as they were when those texts were made; a number
already issued keeps its code when provinces are later merged. The 4th digit encodes the
century of birth and the sex, the 5th-6th the year of birth, the last 6 are a sequence:
those are not checked here.

Other digits (full-width "０７９…", Arabic-Indic, ...) are refused, never normalised into a
new number: the same person must never exist twice under two spellings of one number.
"""

from __future__ import annotations

#: Province / city code -> name (Circular 07/2016/TT-BCA, appendix; 63 codes).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

LENGTH = 12
_ASCII_DIGITS = frozenset("0123456789")


class InvalidCitizenId(ValueError):
    """The value is not a citizen id; ``message`` is safe to show next to the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def citizen_id_problem(value: object) -> str | None:
    """Why ``value`` is not a citizen id (a translated message), or None when it is one.
    Surrounding spaces are the caller's to strip; nothing else is forgiven."""
    from flask_babel import gettext as _

    if not isinstance(value, str) or not value:
        return _("Enter the 12-digit citizen id.")
    if not set(value) <= _ASCII_DIGITS:
        if all(ch.isdigit() for ch in value):
            return _("Type the citizen id with the digits 0-9 (not full-width or other digits).")
        return _("A citizen id has 12 digits, 0-9 only.")
    if len(value) != LENGTH:
        return _("A citizen id has exactly 12 digits; this one has %(n)s.", n=len(value))
    if value[:3] not in PROVINCE_CODES:
        return _("%(code)s is not a province code: a citizen id starts with the code of the "
                 "province where the birth was registered.", code=value[:3])
    return None


def check_citizen_id(value: object) -> str:
    """The citizen id itself, or ``InvalidCitizenId`` saying what is wrong with it."""
    problem = citizen_id_problem(value)
    if problem is not None:
        raise InvalidCitizenId(problem)
    return value  # type: ignore[return-value]


def is_citizen_id(value: object) -> bool:
    return citizen_id_problem(value) is None
