"""The legal basis of a line in the reader's language.

The rules (``tax_calc``) and the provinces' data files cite their legal basis in English, the
way the rules were written down: "Decree 10/2022/ND-CP art. 8(1) (0.5%)". A Vietnamese reader
sees it the way Vietnamese documents cite the law: "Nghị định 10/2022/NĐ-CP, khoản 1 Điều 8
(0,5%)" — the kind of document in Vietnamese, Đ in the document's code, the point before the
clause before the article, and numbers written the Vietnamese way.

Two steps: the explanatory phrases the rules use are replaced from a table (longest first),
then every citation (document, article, clause, point) is rewritten by pattern. A phrase the
table does not know stays as it was; the unit tests check every legal basis the rules and the
data files produce, so none reaches a Vietnamese page in English.
"""

from __future__ import annotations

import re

#: The explanatory phrases of the rules' legal bases (tax_calc/rules.py, the data files'
#: ``source`` lines), in Vietnamese. Citations inside them are left to the patterns below.
PHRASES_VI: dict[str, str] = {
    "base; as amended by": "giá tính lệ phí; sửa đổi bởi",
    "exemptions": "các trường hợp được miễn",
    "transfer price not below the land price table, as amended by":
        "giá chuyển nhượng không thấp hơn giá đất trong bảng giá đất, sửa đổi bởi",
    "inheritance/gift above": "thừa kế, quà tặng trên",
    "family exemptions": "miễn thuế giữa những người thân trong gia đình",
    "transfer price not below table price x adjustment coefficient":
        "giá chuyển nhượng không thấp hơn giá trong bảng giá đất × hệ số điều chỉnh giá đất",
    "amended by": "sửa đổi bởi",
    "amending": "sửa đổi",
    "levy price = table price x adjustment coefficient":
        "giá tính tiền sử dụng đất = giá trong bảng giá đất × hệ số điều chỉnh giá đất",
    "recognition without authority and without proof of payment, 70% of the residential "
    "table price": "công nhận quyền sử dụng đất được giao không đúng thẩm quyền, không có "
                   "chứng từ đã nộp tiền: 70% giá đất ở trong bảng giá đất",
    "transitional provisions": "quy định chuyển tiếp",
    "recording the levy as a debt for a first certificate":
        "ghi nợ tiền sử dụng đất khi cấp giấy chứng nhận lần đầu",
    "extension of the time to put land into use": "gia hạn thời hạn đưa đất vào sử dụng",
    "Article number UNVERIFIED": "Số điều chưa được đối chiếu",
    "annual rate set by the province between 0.25% and 3%; one-time rent for the lease term":
        "tỷ lệ tính tiền thuê đất hằng năm do tỉnh quy định từ 0.25% đến 3%; tiền thuê trả "
        "một lần cho cả thời gian thuê",
    "rates": "thuế suất",
    "annual tax of 50,000 or less exempt for households and individuals":
        "hộ gia đình, cá nhân có số thuế phải nộp hằng năm từ 50,000 đồng trở xuống được miễn",
    "in force": "có hiệu lực từ",
    "per day": "mỗi ngày",
    "consolidated declaration": "khai tổng hợp",
    "of the Hanoi People's Council": "của Hội đồng nhân dân thành phố Hà Nội",
    "of the Ho Chi Minh City People's Council": "của Hội đồng nhân dân Thành phố Hồ Chí Minh",
    "of the Ho Chi Minh City People's Committee": "của Ủy ban nhân dân Thành phố Hồ Chí Minh",
    "fees and charges": "phí và lệ phí",
    "amounts as listed in LAW.md": "mức thu theo danh mục đã công bố",
    "position factors": "hệ số vị trí",
    "residential allocation quota": "hạn mức giao đất ở",
    "values as reported in LAW.md": "giá trị theo danh mục đã công bố",
    "and": "và",
    "of": "của",
}

#: Kinds of document, longest first so "Land Law" wins over "Law".
DOCUMENTS_VI: dict[str, str] = {
    "PIT Law": "Luật Thuế thu nhập cá nhân",
    "Land Law": "Luật Đất đai",
    "Law": "Luật",
    "Decree": "Nghị định",
    "Circular": "Thông tư",
    "Resolution": "Nghị quyết",
    "Decision": "Quyết định",
    "Appendix": "Phụ lục",
}

#: Letters of a document's code written with Đ in Vietnamese (ND-CP is NĐ-CP).
_CODE_PARTS = {"ND": "NĐ", "QD": "QĐ", "HDND": "HĐND", "DCT": "ĐCT"}

_PHRASE_RE = re.compile("|".join(
    r"(?<![\w])" + re.escape(p) + r"(?![\w])" for p in sorted(PHRASES_VI, key=len, reverse=True)))
_DOC_RE = re.compile(r"\b(" + "|".join(re.escape(d) for d in DOCUMENTS_VI) + r")\s+"
                     r"(\d+[A-Za-z]?(?:/\d{4})?(?:/[A-Z0-9]+(?:-[A-Z0-9]+)*)?|[IVX]+)\b")
#: "art. 10(2)(c)", "Article 7", "art. 7-8", "art. 8(1.2)".
_ART_RE = re.compile(r"\b(?:art\.|arts\.|Article)\s*(\d+(?:-\d+)?)((?:\([0-9a-z.]+\))*)")
#: "Point c, Clause 2, Article 10", "Clause 2, Article 7".
_CLAUSE_RE = re.compile(r"\b(?:Point\s+([0-9a-z.]+),?\s+)?Clause\s+([0-9.]+),?\s+(?:of\s+)?Article\s+(\d+)")
_POINT_ONLY_RE = re.compile(r"\bPoint\s+([0-9a-z.]+)\b")
_CLAUSE_ONLY_RE = re.compile(r"\bClause\s+([0-9.]+)\b")
_THOUSANDS_RE = re.compile(r"(?<![\d/.,])\d{1,3}(?:,\d{3})+(?![\d/])")
_DECIMAL_RE = re.compile(r"(?<![\d/.])(\d+)\.(\d+)(?=%)")


def _code(code: str) -> str:
    return "-".join(_CODE_PARTS.get(part, part) for part in code.split("-"))


def _document(m: re.Match) -> str:
    number = m.group(2)
    parts = number.split("/")
    if len(parts) == 3:
        number = f"{parts[0]}/{parts[1]}/{_code(parts[2])}"
    return f"{DOCUMENTS_VI[m.group(1)]} {number}"


def _article(m: re.Match) -> str:
    article, subs = m.group(1), re.findall(r"\(([0-9a-z.]+)\)", m.group(2) or "")
    words = [f"Điều {article}"]
    if subs:
        clause = subs[0]
        if "." in clause:  # 8(1.2): point 1.2 of clause 1
            words.insert(0, f"khoản {clause.split('.')[0]}")
            words.insert(0, f"điểm {clause}")
        else:
            words.insert(0, f"khoản {clause}")
        for point in subs[1:]:
            words.insert(0, f"điểm {point}")
    return " ".join(words)


def _clause(m: re.Match) -> str:
    point, clause, article = m.groups()
    words = f"khoản {clause} Điều {article}"
    return f"điểm {point} {words}" if point else words


def _capitalise(text: str) -> str:
    """The first letter of the text, and of each part after a "; " outside brackets, in upper
    case: each part is a citation of its own."""
    out, depth, start = [], 0, True
    for ch in text:
        if start and not ch.isspace():
            ch, start = ch.upper(), False
        depth += (ch == "(") - (ch == ")")
        out.append(ch)
        if ch == ";" and depth == 0:
            start = True
    return "".join(out)


def legal_basis_vi(text: str) -> str:
    """``text`` (a legal basis as the rules cite it) in Vietnamese."""
    if not text:
        return text
    out = _PHRASE_RE.sub(lambda m: PHRASES_VI[m.group(0)], text)
    out = _CLAUSE_RE.sub(_clause, out)
    out = _ART_RE.sub(_article, out)
    out = _POINT_ONLY_RE.sub(lambda m: f"điểm {m.group(1)}", out)
    out = _CLAUSE_ONLY_RE.sub(lambda m: f"khoản {m.group(1)}", out)
    # A document followed directly by its article: "Nghị định 10/2022/NĐ-CP, Điều 7".
    out = _DOC_RE.sub(_document, out)
    out = re.sub(r"((?:NĐ|QĐ|TT|QH|NQ|HĐND|UBND)[-A-ZĐ0-9]*)\s+((?:điểm|khoản|Điều)\s)", r"\1, \2", out)
    out = _DECIMAL_RE.sub(r"\1,\2", out)
    out = _THOUSANDS_RE.sub(lambda m: m.group(0).replace(",", "."), out)
    out = re.sub(r"(?<=\s)x(?=\s)", "×", out)
    return _capitalise(out)


def legal_basis_in(text: str | None, locale: str) -> str:
    """``text`` for a reader of ``locale`` ("vi" or "en"); English is the rules' own wording."""
    if not text:
        return text or ""
    if str(locale).startswith("vi"):
        return legal_basis_vi(text)
    return re.sub(r"(?<=\s)x(?=\s)", "×", text)


def legal_basis(text: str | None) -> str:
    """``text`` in the language of the current request (a Jinja filter and the PDFs' helper)."""
    from flask_babel import get_locale

    return legal_basis_in(text, str(get_locale() or "vi"))
