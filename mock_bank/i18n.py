"""The test bank's pages in Vietnamese, or in English when asked.

The bank is a process of its own and shares nothing with LandPay, so it keeps its own small
word list: each English text of its pages, and its Vietnamese. The language is the one asked
for with ``?lang=vi`` or ``?lang=en`` (kept in a cookie), else the merchant's ``lp_locale`` on
the checkout page, else the browser's Accept-Language, else Vietnamese.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Flask, g, request

LANGS = ("vi", "en")
COOKIE = "mock_bank_lang"

#: English text of the pages -> Vietnamese.
VI: dict[str, str] = {
    # every page
    "Test bank": "Ngân hàng thử nghiệm",
    "LandPay test bank": "Ngân hàng thử nghiệm của LandPay",
    "No real money moves here.": "Không có tiền thật nào được chuyển ở đây.",
    "Language": "Ngôn ngữ",
    "Error": "Lỗi",
    "Page not found.": "Không tìm thấy trang.",
    "Something went wrong.": "Đã có lỗi xảy ra.",
    # checkout
    "Payment": "Thanh toán",
    "Merchant": "Đơn vị nhận",
    "Amount": "Số tiền",
    "Description": "Nội dung",
    "Merchant reference": "Mã giao dịch của đơn vị",
    "Test account": "Tài khoản thử nghiệm",
    "Pay": "Thanh toán",
    "Cancel payment": "Hủy thanh toán",
    "Pays": "Thanh toán thành công",
    "Declined: insufficient funds": "Bị từ chối: không đủ số dư",
    "Pays, notification sent twice": "Thanh toán thành công, thông báo gửi hai lần",
    "Pays, notification never sent": "Thanh toán thành công, không gửi thông báo",
    "Pays, notification delayed": "Thanh toán thành công, thông báo gửi chậm",
    # refused
    "Payment request refused": "Yêu cầu thanh toán bị từ chối",
    "Reason code:": "Mã lý do:",
    "Nothing was charged. Go back to the merchant's site and start again.":
        "Không có khoản tiền nào bị trừ. Hãy quay lại trang của đơn vị và thực hiện lại.",
    "This merchant is not registered with the bank.": "Đơn vị này chưa đăng ký với ngân hàng.",
    "The payment request's signature is missing or does not match. It may have been altered on the way.":
        "Chữ ký của yêu cầu thanh toán bị thiếu hoặc không khớp. Yêu cầu có thể đã bị sửa đổi trên đường truyền.",
    "The payment request is dated in the future.": "Yêu cầu thanh toán ghi thời điểm trong tương lai.",
    "The payment request has expired. Start the payment again.":
        "Yêu cầu thanh toán đã hết hạn. Hãy thực hiện thanh toán lại.",
    "This order has already been paid or cancelled.": "Giao dịch này đã được thanh toán hoặc đã bị hủy.",
    "The form has expired or was not sent from this page.":
        "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này.",
    "Choose one of the test accounts.": "Hãy chọn một trong các tài khoản thử nghiệm.",
    "Unknown action.": "Thao tác không hợp lệ.",
    "Send a JSON object of strings.": "Hãy gửi một đối tượng JSON gồm các chuỗi.",
    "The field lp_create_date is not a valid time.": "Trường lp_create_date không phải là thời điểm hợp lệ.",
    # index
    "Merchants send payers to /checkout with a signed request. The test account the payer picks decides the outcome:":
        "Đơn vị chuyển người nộp tiền đến /checkout với một yêu cầu đã ký. Tài khoản thử nghiệm người nộp chọn quyết định kết quả:",
    "Transactions and notifications": "Giao dịch và thông báo",
    "Banking app (VietQR transfers)": "Ứng dụng ngân hàng (chuyển khoản VietQR)",
    "Test customers sign in to the banking app, paste a VietQR code's text or upload its picture, and transfer; a transfer to a collecting account is notified to its owner, signed.":
        "Khách hàng thử nghiệm đăng nhập ứng dụng ngân hàng, dán nội dung mã VietQR hoặc tải ảnh mã lên rồi chuyển khoản; "
        "khoản chuyển vào tài khoản chuyên thu được thông báo cho chủ tài khoản, có chữ ký.",
    "banking app": "ứng dụng ngân hàng",
    "Password for all:": "Mật khẩu chung:",
    "account": "tài khoản",
    "opening balance": "số dư ban đầu",
    # transactions
    "Transactions": "Giao dịch",
    "As JSON": "Dạng JSON",
    "No transactions yet.": "Chưa có giao dịch nào.",
    "Transaction": "Giao dịch",
    "Merchant / order": "Đơn vị / đơn hàng",
    "Result": "Kết quả",
    "Account": "Tài khoản",
    "Decided (UTC)": "Thời điểm (UTC)",
    "Notifications": "Thông báo",
    "none": "không có",
    "Paid": "Đã thanh toán",
    "Cancelled by the payer": "Người nộp đã hủy",
    "Checkout window expired": "Hết thời gian thanh toán",
    "Bank error": "Lỗi ngân hàng",
    # banking app
    "Banking app": "Ứng dụng ngân hàng",
    "Banking app — sign in": "Ứng dụng ngân hàng — đăng nhập",
    "Username": "Tên đăng nhập",
    "Password": "Mật khẩu",
    "Sign in": "Đăng nhập",
    "Sign out": "Đăng xuất",
    "Test customers": "Khách hàng thử nghiệm",
    "Name": "Họ tên",
    "Opening balance": "Số dư ban đầu",
    "Customer": "Khách hàng",
    "Balance": "Số dư",
    "Transfer done:": "Đã chuyển tiền:",
    "Pay with a VietQR code": "Thanh toán bằng mã VietQR",
    "VietQR payload (the text inside the code)": "Nội dung mã VietQR (đoạn chữ trong mã)",
    "…or a picture of the QR code": "…hoặc ảnh chụp mã QR",
    "Read the code": "Đọc mã",
    "Recent transfers": "Các lần chuyển gần đây",
    "To": "Đến",
    "Purpose": "Nội dung",
    "Confirm transfer": "Xác nhận chuyển tiền",
    "Payee bank (BIN)": "Ngân hàng nhận (BIN)",
    "Payee account": "Tài khoản nhận",
    "to be typed": "nhập số tiền",
    "From": "Từ",
    "Amount (dong)": "Số tiền (đồng)",
    "Cancel": "Hủy",
    "Transfer refused": "Chuyển tiền bị từ chối",
    "Back to the banking app": "Quay lại ứng dụng ngân hàng",
    "Wrong username or password.": "Sai tên đăng nhập hoặc mật khẩu.",
    "The form has expired; try again.": "Biểu mẫu đã hết hạn; hãy thử lại.",
    "The form has expired; start again.": "Biểu mẫu đã hết hạn; hãy làm lại từ đầu.",
    "Enter the amount.": "Hãy nhập số tiền.",
    "The amount must be more than zero.": "Số tiền phải lớn hơn không.",
    "Transfers to other banks are not possible in the test bank.":
        "Ngân hàng thử nghiệm không chuyển tiền sang ngân hàng khác.",
    "You cannot transfer to your own account.": "Bạn không thể chuyển tiền cho chính tài khoản của mình.",
    "Insufficient funds.": "Không đủ số dư.",
    "The payee's account does not exist at this bank.": "Tài khoản nhận không có tại ngân hàng này.",
    "Paste the code's text or choose a picture of it.": "Hãy dán nội dung mã hoặc chọn ảnh chụp mã.",
    "this is not a VietQR code (no CRC field at the end)": "đây không phải mã VietQR (không có trường CRC ở cuối)",
    "the code is damaged: its checksum (CRC) does not match": "mã bị hỏng: mã kiểm tra (CRC) không khớp",
    "unknown payload format": "định dạng nội dung mã không được hỗ trợ",
    "only transfers in VND within Vietnam are supported": "chỉ hỗ trợ chuyển khoản bằng VND trong Việt Nam",
    "this is not a NAPAS transfer code": "đây không phải mã chuyển khoản NAPAS",
    "the payee's bank or account is missing": "thiếu ngân hàng hoặc tài khoản của người nhận",
    "the amount is not whole dong": "số tiền không phải là số đồng nguyên",
    "the file is not a picture": "tệp không phải là ảnh",
    "no QR code found in the picture": "không tìm thấy mã QR trong ảnh",
}


def current_lang() -> str:
    """The language of this request's page."""
    if "bank_lang" in g:
        return g.bank_lang
    asked = request.args.get("lang") or (request.form.get("lang") if request.method == "POST" else None)
    if asked in LANGS:
        lang = asked
    elif request.cookies.get(COOKIE) in LANGS:
        lang = request.cookies[COOKIE]
    elif request.endpoint == "bank.checkout" and request.args.get("lp_locale") in ("vn", "en"):
        lang = "vi" if request.args["lp_locale"] == "vn" else "en"
    else:
        lang = request.accept_languages.best_match(LANGS) or "vi"
    g.bank_lang = lang
    return lang


def t(text: Any) -> str:
    """``text`` in this request's language (English is the pages' own)."""
    text = str(text)
    if current_lang() != "vi":
        return text
    field = re.fullmatch(r"The field (\w+) is missing or malformed\.", text)
    if field:
        return f"Trường {field.group(1)} bị thiếu hoặc sai định dạng."
    broken = re.fullmatch(r"broken field header at position (\d+)|field (\w+) is (cut short|repeated)", text)
    if broken:
        if broken.group(1):
            return f"phần đầu trường bị hỏng tại vị trí {broken.group(1)}"
        return f"trường {broken.group(2)} " + ("bị cắt ngắn" if broken.group(3) == "cut short" else "bị lặp lại")
    return VI.get(text, text)


def lang_url(lang: str) -> str | None:
    """This page in ``lang`` (pages reached by a GET only)."""
    if request.method != "GET":
        return None
    return request.path + "?" + urlencode({**request.args.to_dict(), "lang": lang})


def init_app(app: Flask) -> None:
    @app.context_processor
    def _words() -> dict[str, Any]:
        return {"t": t, "lang": current_lang(), "lang_url": lang_url}

    @app.after_request
    def _remember(response):  # type: ignore[no-untyped-def]
        if request.args.get("lang") in LANGS:
            response.set_cookie(COOKIE, request.args["lang"], samesite="Lax", httponly=True)
        return response
