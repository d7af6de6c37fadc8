"""decode_html: HTTP header, BOM, <meta>, then detection; legacy labels widened as browsers do."""

from __future__ import annotations

import pytest

from services.parse.charset import decode_html

RU = "<html><body><p>Строительство новой станции метро выходит на финальный этап, сообщили в мэрии.</p></body></html>"
JA = (
    "<html><body><p>気象庁によると、大型の台風は勢力を保ったまま北上を続けている。"
    "九州では大雨が予想される。</p></body></html>"
)
FR = "<html><body><p>« La qualité est très prometteuse », explique Élodie, viticultrice à Meursault.</p></body></html>"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (RU.encode("cp1251"), "text/html; charset=windows-1251", RU),
        (RU.encode("cp1251"), None, RU),
        (('<meta charset="windows-1251">' + RU).encode("cp1251"), None, '<meta charset="windows-1251">' + RU),
        (FR.encode("latin-1"), "text/html; charset=ISO-8859-1", FR),
        (
            ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' + "l’été").encode("cp1252"),
            None,
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' + "l’été",
        ),
        (('<meta charset="Shift_JIS">' + JA).encode("cp932"), None, '<meta charset="Shift_JIS">' + JA),
        (JA.encode("shift_jis"), None, JA),
        ("\ufeff".encode() + FR.encode(), "text/html; charset=iso-8859-1", FR),
        (FR.encode(), "text/html; charset=utf-8", FR),
        (FR.encode(), "text/html; charset=no-such-charset", FR),
    ],
)
def test_decode(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_html(body, content_type) == expected


def test_wrong_declaration_falls_back_to_detection() -> None:
    body = ('<meta charset="utf-8">' + RU).encode("cp1251")
    assert "Строительство" in decode_html(body, None)
