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


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', None),
        ('<meta charset="windows-1252">', None),
        ("", "text/html; charset=ISO-8859-1"),
    ],
)
def test_utf8_bytes_under_a_single_byte_declaration_are_utf8(declaration: str, content_type: str | None) -> None:
    """A misconfigured site declares Latin-1 over UTF-8 bytes: "für" must not become "fÃ¼r"."""
    page = declaration + "<p>Toller Crash-Tarif: 10 GB jetzt für nur 5,99 Euro – « été »</p>"
    assert decode_html(page.encode("utf-8"), content_type) == page


def test_latin1_bytes_that_are_not_utf8_keep_their_declaration() -> None:
    page = '<meta charset="iso-8859-1"><p>Größe für Äpfel</p>'
    assert decode_html(page.encode("latin-1"), None) == page


def test_tree_drops_control_characters_and_composes_nfc() -> None:
    from services.parse.tree import load_tree

    decomposed = "Mu\u0308nchen"  # "ü" as u + combining diaeresis
    root = load_tree(f"<html><body><p>Alarm\x07 in {decomposed}\x0c!</p></body></html>".encode())
    assert root.findtext(".//p") == "Alarm in München!"


def test_control_characters_do_not_empty_the_body() -> None:
    """A BEL inside the text made the embedded trafilatura call return nothing on the parsed tree."""
    from services.parse.article import parse_article

    sentences = [f"Sentence number {i} of the council report on the new tram line.\x07" for i in range(12)]
    page = "<html><head><title>Tram report</title></head><body><article><h1>Tram report</h1>"
    page += "".join(f"<p>{s} It was presented on Monday to the transport committee.</p>" for s in sentences)
    page += "</article></body></html>"
    record = parse_article(page.encode(), "https://city.example/news/tram-report")
    assert len(record.body_paragraphs) == 12
    assert record.body_paragraphs[0] == (
        "Sentence number 0 of the council report on the new tram line. It was presented on Monday to the transport"
        " committee."
    )
