"""Reading a receipt's QR code from an uploaded photo or image, on the server.

Phones that cannot scan a QR code themselves can still take a photo of it: the verification
page accepts the photo and zxing-cpp finds the code in it. Nothing leaves this service.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

#: Formats a phone camera or a screenshot produces; anything else is refused unread.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF", "BMP"})
#: Above this many pixels an upload is refused before it is decoded (a 48-megapixel phone
#: photo still passes; a decompression bomb does not).
MAX_PIXELS = 50_000_000
#: Photos are reduced to this longest side first: a QR code on a receipt is still many
#: pixels a module, and decoding stays fast.
WORKING_SIZE = 2000
#: The largest upload the verification page accepts.
MAX_UPLOAD_BYTES = 12 * 1024 * 1024


class UnreadableImage(ValueError):
    """The upload is not an image we read, or holds no QR code."""


def qr_text_from_image(data: bytes) -> str:
    """The text of the QR code in an image (the first one found)."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise UnreadableImage("not a PNG, JPEG, WebP, GIF or BMP image")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise UnreadableImage("the image is too large")
        image = ImageOps.exif_transpose(image)
        image.thumbnail((WORKING_SIZE, WORKING_SIZE))
        image = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise UnreadableImage("not an image") from exc
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    texts = [code.text for code in found if code.valid and code.text]
    if not texts:
        raise UnreadableImage("no QR code found in the image")
    return texts[0]
