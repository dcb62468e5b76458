"""Printable PDF documents: the e-receipt and the payment notice.

Drawn with fpdf2 in DejaVu Sans, embedded (subset) from app/static/fonts/ so that Vietnamese
prints the same on every machine whatever fonts it has. The receipt's QR code is the compact
signed form (payments.compact), small enough for a phone camera once printed; the notice's
is the VietQR transfer code a banking app reads.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from flask import Response, current_app, get_template_attribute, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF
from PIL import Image

from app.models import Notice, Receipt
from app.services.keys import receipt_signer
from app.services.views import vietqr_payload
from payments.receipts import parse_time, receipt_qr_png
from payments.vietqr import qr_png

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
_FONT = "DejaVuSans"
#: Printed size of a QR code; a version-8 code then has modules of about 0.7 mm.
QR_MM = 38


def _vnd(amount: int | None) -> str:
    return current_app.jinja_env.filters["vnd"](amount)


def _obligation(code: str) -> str:
    return str(get_template_attribute("_macros.html", "obligation_name")(code)).strip()


def _when(moment: datetime | None) -> str:
    return format_datetime(moment, "dd/MM/yyyy HH:mm") if moment else ""


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.add_font(_FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(_FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_title(title)
        self.set_creator("LandPay")
        self.set_lang("vi")
        self.set_auto_page_break(True, margin=15)
        self.set_margins(18, 15, 18)
        self.add_page()
        self.set_font(_FONT, "B", 15)
        self.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(_FONT, "B", 11)
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def facts(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            if not value:
                continue
            self.set_font(_FONT, "B", 9.5)
            self.cell(52, 5.5, label)
            self.set_font(_FONT, "", 9.5)
            self.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")

    def lines_table(self, rows: list[tuple[str, str, str]], total: tuple[str, str]) -> None:
        """Obligation | legal basis | amount, then the total."""
        width = self.w - self.l_margin - self.r_margin
        with self.table(col_widths=(0.34 * width, 0.44 * width, 0.22 * width),
                        text_align=("LEFT", "LEFT", "RIGHT"), line_height=5.5,
                        first_row_as_headings=True) as table:
            self.set_font(_FONT, "", 9)
            header = table.row()
            for text in (_("Obligation"), _("Legal basis"), _("Amount")):
                header.cell(text)
            for name, basis, amount in rows:
                row = table.row()
                row.cell(name)
                row.cell(basis)
                row.cell(amount)
        self.set_font(_FONT, "B", 10.5)
        self.cell(width - 0.22 * width, 7, total[0], align="R")
        self.cell(0.22 * width, 7, total[1], align="R", new_x="LMARGIN", new_y="NEXT")

    def qr(self, png: bytes, caption: str) -> None:
        self.ln(3)
        if self.get_y() + QR_MM + 12 > self.h - self.b_margin:
            self.add_page()
        top = self.get_y()
        self.image(Image.open(io.BytesIO(png)), x=self.l_margin, y=top, w=QR_MM, h=QR_MM)
        self.set_xy(self.l_margin + QR_MM + 5, top + 2)
        self.set_font(_FONT, "", 9)
        self.multi_cell(0, 5, caption, new_x="LEFT", new_y="NEXT")
        self.set_xy(self.l_margin, max(self.get_y(), top + QR_MM) + 2)

    def pdf_bytes(self) -> bytes:
        return bytes(self.output())


def _office(notice: Notice) -> str:
    office = notice.tax_office
    return f"{office.name} ({office.code})" if office else ""


def _treasury() -> str:
    cfg = current_app.config
    account, bank_bin = cfg.get("VIETQR_ACCOUNT"), cfg.get("VIETQR_ACQUIRER_ID")
    if not account:
        return ""
    return _("State Treasury collection account %(account)s (bank BIN %(bin)s)",
             account=account, bin=bank_bin or "-")


def _parcel(notice: Notice) -> str:
    parcel = notice.parcel
    if parcel is None:
        return ""
    return _("Map sheet %(sheet)s, parcel %(no)s, %(area)s m², %(address)s",
             sheet=parcel.map_sheet, no=parcel.parcel_no, area=parcel.area_m2,
             address=parcel.address)


def _subject(dossier_code: str, notice: Notice) -> list[tuple[str, str]]:
    """What the notice is for: its dossier or, for the annual tax (no dossier), the tax year."""
    annual = getattr(notice, "annual", None)
    if not dossier_code and annual is not None:
        return [(_("Annual non-agricultural land use tax"), str(annual.tax_year))]
    return [(_("Dossier"), dossier_code)]


def _legal_bases(notice: Notice) -> dict[str, str]:
    return {line.obligation: line.info("legal_basis") or "" for line in notice.lines}


def _basis_cell(basis: str, budget_code: str | None, account: str | None) -> str:
    """The legal basis, and where the money of the line goes when it is classified."""
    from app.legal_words import legal_basis

    parts = [legal_basis(basis)] if basis else []
    if budget_code:
        parts.append(_("Budget code %(code)s", code=budget_code))
    if account:
        parts.append(_("Treasury account %(account)s", account=account))
    return "\n".join(parts)


def verification_link(number: str) -> str:
    """The short link printed under the QR code: the verification page, which looks the
    receipt number up (for readers without a QR scanner). On the service's public address,
    not on whatever host the request came through."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("public.verify", number=number)
    return url_for("public.verify", number=number, _external=True)


def compact_code(receipt: Receipt) -> str:
    """The text of a receipt's printed QR code, signed now by the active key (Ed25519 is
    deterministic: the same key always gives the same code)."""
    return receipt_signer().sign_compact(receipt.claims)


def receipt_pdf(receipt: Receipt) -> bytes:
    claims, notice = receipt.claims, receipt.notice
    doc = _Document(_("E-receipt %(number)s", number=receipt.number))
    doc.facts([
        (_("Issuing office"), _office(notice)),
        (_("Collected into"), _treasury()),
        (_("Notice"), claims.get("notice_code", "")),
        *_subject(claims.get("dossier_code", ""), notice),
        (_("Parcel"), _parcel(notice)),
        (_("Paid by"), claims.get("payer_name", "")),
        (_("Paid for"), ", ".join(claims.get("paid_for") or [])),
        (_("Paid at"), _when(parse_time(claims["paid_at"]))),
        (_("Bank reference"), claims.get("bank_ref") or ""),
        (_("Issued"), _when(receipt.issued_at)),
    ])
    doc.heading(_("What was paid and why"))
    bases = _legal_bases(notice)
    doc.lines_table(
        [(_obligation(line["obligation"]),
          _basis_cell(bases.get(line["obligation"], ""), line.get("budget_code"),
                      line.get("treasury_account")),
          _vnd(line["amount"]))
         for line in claims["lines"]],
        (_("Total paid"), _vnd(claims["total"])),
    )
    code = compact_code(receipt)
    doc.qr(receipt_qr_png(code, box_size=10), _(
        "Scan to check this receipt offline with LandPay's published keys, or open %(link)s. "
        "Full receipt signed with key %(kid)s.", link=verification_link(receipt.number),
        kid=receipt.kid))
    return doc.pdf_bytes()


def notice_pdf(notice: Notice) -> bytes:
    doc = _Document(_("Payment notice %(code)s", code=notice.code))
    payers = ", ".join(p.full_name for p in notice.payers)
    doc.facts([
        (_("Issuing office"), _office(notice)),
        (_("Pay into"), _treasury()),
        *_subject(notice.dossier.code if notice.dossier is not None else "", notice),
        (_("Parcel"), _parcel(notice)),
        (_("Payer"), payers or notice.payer.full_name),
        (_("Issued"), _when(notice.issued_at)),
        (_("Due by"), notice.due_on.strftime("%d/%m/%Y") if notice.due_on else _("Nothing due")),
        (_("Status"), _("Paid") if notice.status.value == "paid" else _("Unpaid")),
    ])
    doc.heading(_("What you pay and why"))
    doc.lines_table(
        [(_obligation(line.obligation),
          _basis_cell(line.info("legal_basis") or "", line.budget_code,
                      line.treasury_account),
          _vnd(line.amount))
         for line in notice.lines],
        (_("Total"), _vnd(notice.total)),
    )
    doc.facts([(_("Outstanding"), _vnd(notice.outstanding))])
    payload = vietqr_payload(notice)
    if payload:
        doc.qr(qr_png(payload), _(
            "Scan with your banking app to pay %(amount)s by transfer; the transfer content "
            "must be the notice code %(code)s.", amount=_vnd(notice.outstanding), code=notice.code))
    return doc.pdf_bytes()


def pdf_filename(prefix: str, code: str) -> str:
    safe = "".join(ch for ch in code if ch.isalnum() or ch in "-_")
    return f"{prefix}-{safe}.pdf"


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF download; private, so never kept by a shared cache."""
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    })
