"""Robustness: parse_article returns a record or raises ParseError, whatever the bytes, quickly."""

from __future__ import annotations

import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parse.article import parse_article
from shared.errors import ParseError

URL = "https://example.com/news/2020/01/01/story"
REASONS = {"empty_document", "not_html", "binary_content", "too_large", "too_deep", "no_content", "parser_crash"}
TAGS = ["p", "div", "article", "span", "a", "li", "ul", "ol", "figure", "figcaption", "time", "h1", "script",
        "table", "tr", "td", "meta", "img", "br", "section", "footer", "nav", "b"]  # fmt: skip
ATTRS = ['class="comment"', 'class="b-article"', 'id="comment-1"', 'data-parent-id="1"', 'rel="tag"',
         'itemprop="articleBody"', 'datetime="2020-02-30T25:61"', 'class="fb-comments" data-href="x"',
         'property="article:published_time" content="not a date"', 'src="//"',
         'href="javascript:void(0)"', ""]  # fmt: skip


@pytest.fixture(autouse=True)
def _quiet_logs():
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def _check(html: bytes | str) -> None:
    started = time.perf_counter()
    try:
        record = parse_article(html, URL)
    except ParseError as error:
        assert error.reason in REASONS
    else:
        assert record.url == URL
        record.to_dict()
    assert time.perf_counter() - started < 5


markup = st.recursive(
    st.text(max_size=40),
    lambda children: st.builds(
        lambda tag, attr, inner: f"<{tag} {attr}>{''.join(inner)}</{tag}>",
        st.sampled_from(TAGS),
        st.sampled_from(ATTRS),
        st.lists(children, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup)
def test_random_markup(fragment: str) -> None:
    _check(f"<html><head><title>t</title></head><body>{fragment}</body></html>")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    _check(text)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (b"", "empty_document"),
        (b"   \n ", "empty_document"),
        (b"%PDF-1.7 binary", "binary_content"),
        (b"\x89PNG\r\n\x1a\n....", "binary_content"),
        (b"plain text, no markup at all", "not_html"),
        (("<div>" * 10_000 + "deep" + "</div>" * 10_000).encode(), "too_deep"),
        (b"<html><body></body></html>", "no_content"),
    ],
)
def test_rejections_have_reasons(html: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_article(html, URL)
    assert caught.value.reason == reason


def test_big_page_is_bounded() -> None:
    page = (
        "<html><body><article>"
        + "<p>Lorem ipsum dolor sit amet, consectetur.</p>" * 40_000
        + "</article></body></html>"
    )
    started = time.perf_counter()
    record = parse_article(page.encode(), URL)
    assert record.body_paragraphs and time.perf_counter() - started < 20
