"""Bech32 (BIP 173) as age uses it for keys: no length limit, one case per string."""

from __future__ import annotations

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & maxv)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & maxv):
        raise ValueError("non-zero padding bits")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Lower-case bech32 of ``data`` under human-readable part ``hrp``."""
    values = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Split a bech32 string into (lower-case hrp, data); ValueError says what is wrong."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed upper and lower case")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1 or sep + 7 > len(text):
        raise ValueError("separator '1' missing or misplaced")
    hrp, rest = text[:sep], text[sep + 1 :]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("invalid character in the prefix")
    try:
        values = [_CHARSET.index(c) for c in rest]
    except ValueError:
        raise ValueError("invalid character") from None
    if _polymod(_hrp_expand(hrp) + values) != 1:
        raise ValueError("checksum does not match (a character was mistyped or lost)")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
