"""The kit's label: the Wi-Fi name and password, the page's address, and a join QR code if asked.

The join code is drawn only when asked for (``vigkit setup --wifi-qr``; issue #17): a
code on the kit's lid lets anyone who points a phone at the kit from across a family's
room join its Wi-Fi in a second, where the printed password has to be read and typed.

The page is ``https://vigkit.lan/``; the label prints ``vigkit.lan`` large for typing
(a browser asked for the name alone lands on the kit's plain-HTTP page, which links to
the HTTPS one) and the full address beneath it.

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

PAGE_NAME = "vigkit.lan"  # what to type
PAGE_ADDRESS = f"https://{PAGE_NAME}/"
PAGE_ADDRESS_IP = "https://10.42.0.1/"  # the kit's certificate names this address too
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


def _text_line(x: float, y: float, size: float, weight: str, words: str) -> str:
    # Text runs from x to the right edge less 2 mm; a long name is squeezed to fit
    # (bold sans averages about 0.62 em per character).
    width = 88 - x
    fit = (
        f' textLength="{width:g}" lengthAdjust="spacingAndGlyphs"'
        if len(words) * size * 0.62 > width
        else ""
    )
    return (
        f'  <text x="{x:g}" y="{y}" font-size="{size}" font-weight="{weight}"{fit}>'
        f"{escape(words)}</text>"
    )


def _join_code(wifi_name: str, password: str) -> str:
    """The join code, 40 mm square (quiet zone included), in the label's left half."""
    qr = wifi_qr(wifi_name, password)
    modules = len(qr.matrix)
    border = 2
    cell = 40.0 / (modules + 2 * border)
    path = []
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                path.append(f"M{x + border} {y + border}h1v1h-1z")
    return (
        f'  <g transform="translate(3 5) scale({cell:.5f})">\n'
        f'    <rect width="{modules + 2 * border}" height="{modules + 2 * border}" fill="#fff"/>\n'
        f'    <path fill="#000" d="{"".join(path)}"/>\n'
        "  </g>\n"
    )


def label_svg(kit_name: str, wifi_name: str, password: str, *, join_code: bool = False) -> str:
    """A label for the kit's lid, 90 mm x 50 mm: what to type to reach the page, and with
    ``join_code`` a Wi-Fi join QR code on its left (the text then takes the right half)."""
    lines = [
        (8.5, 5.0, "bold", f"VIG Kit · {kit_name}"),
        (15.0, 3.2, "normal", "Wi-Fi"),
        (19.3, 3.6, "bold", wifi_name),
        (24.5, 3.2, "normal", "Password"),
        (28.8, 3.6, "bold", password),
        (34.0, 3.2, "normal", "Then open"),
        (38.3, 3.6, "bold", PAGE_NAME),
        (42.8, 2.8, "normal", f"the page: {PAGE_ADDRESS}"),
        (46.8, 2.8, "normal", f"or {PAGE_ADDRESS_IP}"),
    ]
    x = 47 if join_code else 5
    text = "\n".join(_text_line(x, y, size, weight, words) for y, size, weight, words in lines)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="90mm" height="50mm" '
        'viewBox="0 0 90 50">\n'
        f"  <title>VIG Kit {escape(kit_name)}: Wi-Fi label</title>\n"
        '  <rect width="90" height="50" fill="#fff" stroke="#000" stroke-width="0.3"/>\n'
        f"{_join_code(wifi_name, password) if join_code else ''}"
        '  <g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" fill="#000">\n'
        f"{text}\n"
        "  </g>\n"
        "</svg>\n"
    )
