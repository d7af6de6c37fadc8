"""Bytes -> str for HTML pages.

Order of evidence: a byte-order mark (it cannot lie, so it wins as in the WHATWG
encoding-sniffing algorithm), the HTTP `Content-Type` charset, a `<meta charset>` /
`http-equiv` declaration in the first 4 KiB, then statistical detection with
charset-normalizer. A declared charset is only trusted when the bytes decode cleanly
under it; legacy labels are widened to the superset browsers really use
(ISO-8859-1 -> windows-1252, Shift_JIS -> cp932, GB2312 -> GB18030).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([\w.:-]+)""",
    re.IGNORECASE,
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
# What browsers actually decode these labels as (WHATWG Encoding Standard).
_SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "iso8859_9": "cp1254",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "tis_620": "cp874",
    "iso8859_11": "cp874",
}
# Codecs with one byte per character, whose declarations are checked against UTF-8 bytes.
_SINGLE_BYTE = frozenset(
    {"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874", "koi8_r",
     "koi8_u", "mac_roman"} | {f"iso8859_{n}" for n in range(2, 17)}
)  # fmt: skip
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_META_SCAN_BYTES = 4096
_DETECT_SAMPLE_BYTES = 64 * 1024


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page: HTTP header charset, BOM, `<meta charset>`, then detection.

    Never raises on bad bytes: undecodable sequences become U+FFFD.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    for label in (_charset_from_header(content_type), _charset_from_markup(body)):
        encoding = _lookup(label)
        if encoding and _decodes_cleanly(body, encoding):
            if encoding in _SINGLE_BYTE and _is_multibyte_utf8(body):
                # A server or template that declares Latin-1/windows-125x over UTF-8 bytes (a common
                # misconfiguration): valid multi-byte UTF-8 sequences are almost never accidental in a
                # single-byte text, while reading them as one would turn every "ü" into "Ã¼".
                return body.decode("utf-8", errors="replace")
            return body.decode(encoding, errors="replace")
    return body.decode(detect_encoding(body), errors="replace")


def detect_encoding(body: bytes) -> str:
    """Best-guess codec for undeclared bytes: strict UTF-8 first, then charset-normalizer."""
    if _decodes_cleanly(body, "utf-8"):
        return "utf-8"
    guess = from_bytes(body[:_DETECT_SAMPLE_BYTES]).best()
    return _lookup(guess.encoding if guess else None) or "cp1252"


def _charset_from_header(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _charset_from_markup(body: bytes) -> str | None:
    head = body[:_META_SCAN_BYTES]
    match = _META_CHARSET.search(head) or _XML_DECL.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def _lookup(label: str | None) -> str | None:
    """Python codec name for a charset label, widened to its browser superset; None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in {"utf-16", "utf-16le", "utf-16be", "utf-32"}:
        # A page that reached us as ASCII-compatible bytes with this label is really UTF-8 (WHATWG).
        label = "utf-8"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        if label in {"x-sjis", "sjis", "windows-31j", "ms_kanji"}:
            return "cp932"
        return None
    name = name.replace("-", "_")
    return _SUPERSETS.get(name, name)


def _is_multibyte_utf8(body: bytes) -> bool:
    """Whether the bytes hold UTF-8 multi-byte sequences and decode as UTF-8 without error."""
    return _UTF8_MULTIBYTE.search(body) is not None and _decodes_cleanly(body, "utf-8")


def _decodes_cleanly(body: bytes, encoding: str) -> bool:
    # A truncated multi-byte sequence at the very end (a cut download) is not evidence against
    # the charset, so the last few bytes may fail.
    try:
        body.decode(encoding)
    except UnicodeDecodeError as error:
        return error.start >= len(body) - 3
    except LookupError:
        return False
    return True
