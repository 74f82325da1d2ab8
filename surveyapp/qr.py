"""QR codes of form URLs, as PNG and SVG (the qrcode library)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _make(url: str, **kwargs) -> qrcode.QRCode:
    # Level M survives a scuffed or partly covered poster; a short URL keeps the modules big.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, **kwargs)
    code.add_data(url)
    code.make(fit=True)
    return code


def png(url: str, box_size: int = 10) -> bytes:
    image = _make(url, box_size=box_size).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def svg(url: str) -> bytes:
    image = _make(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode").encode("utf-8")
