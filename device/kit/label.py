"""The kit's label: a Wi-Fi join QR code, the Wi-Fi name and password and the page's address.

The QR holds the de-facto Wi-Fi format phones' cameras understand
(``WIFI:T:WPA;S:<name>;P:<password>;;``, from ZXing), where ``\\ ; , : "`` are escaped
with a backslash. A value made only of hex digits is put in double quotes, since readers
may otherwise take it for a hex-encoded key. Drawn with segno (a project dependency).
"""

from __future__ import annotations

import re
from html import escape
from typing import TextIO

import segno

PAGE_ADDRESS = "http://vigkit.lan/"
PAGE_ADDRESS_IP = "http://10.42.0.1/"
_SPECIAL = re.compile(r'([\\;,:"])')
_HEX = re.compile(r"[0-9A-Fa-f]+")


def escape_wifi(value: str) -> str:
    escaped = _SPECIAL.sub(r"\\\1", value)
    return f'"{escaped}"' if _HEX.fullmatch(value) else escaped


def wifi_string(name: str, password: str) -> str:
    """What the join QR code holds, for a WPA2 network."""
    return f"WIFI:T:WPA;S:{escape_wifi(name)};P:{escape_wifi(password)};;"


def wifi_qr(name: str, password: str) -> segno.QRCode:
    return segno.make(wifi_string(name, password), error="m", micro=False)


def qr_svg(name: str, password: str, scale: int = 4) -> str:
    """An inline ``<svg>`` of the join code, for a web page (no script, no style)."""
    svg: str = wifi_qr(name, password).svg_inline(
        scale=scale, dark="#000", light="#fff", title="Wi-Fi join code", svgclass="qr"
    )
    return svg


def print_terminal_qr(name: str, password: str, out: TextIO) -> None:
    wifi_qr(name, password).terminal(out=out, compact=True)


def _text_line(y: float, size: float, weight: str, words: str) -> str:
    # Text runs from x=47 to the right edge less 2 mm; a long name is squeezed to fit
    # (bold sans averages about 0.62 em per character).
    fit = (
        ' textLength="41" lengthAdjust="spacingAndGlyphs"' if len(words) * size * 0.62 > 41 else ""
    )
    return (
        f'  <text x="47" y="{y}" font-size="{size}" font-weight="{weight}"{fit}>'
        f"{escape(words)}</text>"
    )


def label_svg(kit_name: str, wifi_name: str, password: str) -> str:
    """A label for the kit's lid, 90 mm x 50 mm: the join code and what to type instead."""
    qr = wifi_qr(wifi_name, password)
    modules = len(qr.matrix)
    border = 2
    cell = 40.0 / (modules + 2 * border)  # the code is 40 mm square, quiet zone included
    path = []
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                path.append(f"M{x + border} {y + border}h1v1h-1z")
    lines = [
        (9.5, 5.2, "bold", f"VIG Kit · {kit_name}"),
        (17.0, 3.4, "normal", "Wi-Fi"),
        (21.5, 3.6, "bold", wifi_name),
        (27.0, 3.4, "normal", "Password"),
        (31.5, 3.6, "bold", password),
        (37.0, 3.4, "normal", "Then open"),
        (41.5, 3.6, "bold", PAGE_ADDRESS),
        (46.0, 3.0, "normal", f"or {PAGE_ADDRESS_IP}"),
    ]
    text = "\n".join(_text_line(y, size, weight, words) for y, size, weight, words in lines)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="90mm" height="50mm" '
        'viewBox="0 0 90 50">\n'
        f"  <title>VIG Kit {escape(kit_name)}: Wi-Fi label</title>\n"
        '  <rect width="90" height="50" fill="#fff" stroke="#000" stroke-width="0.3"/>\n'
        f'  <g transform="translate(3 5) scale({cell:.5f})">\n'
        f'    <rect width="{modules + 2 * border}" height="{modules + 2 * border}" fill="#fff"/>\n'
        f'    <path fill="#000" d="{"".join(path)}"/>\n'
        "  </g>\n"
        '  <g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" fill="#000">\n'
        f"{text}\n"
        "  </g>\n"
        "</svg>\n"
    )
