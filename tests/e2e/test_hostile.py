"""Stored text is data: markup, scripts, SQL-looking and template-looking strings in titles and
comments go through the real workers and come back byte for byte from `newsflow show --json`."""

from __future__ import annotations

import json

import pytest

from services.demosite.generated import HOSTILE_TITLE, GeneratedServer, article_path
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

COMMENT = "'; DELETE FROM comments; -- <img src=x onerror=alert(1)> {{config}} %(x)s \\x00 ünïcødé"


def test_hostile_text_is_stored_and_returned_exactly(stack: Stack) -> None:
    with GeneratedServer(20) as site:
        page = site.site.response("GET", article_path(13)).split(b"\r\n\r\n", 1)[1].decode()
        text = COMMENT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        first = page.index('<div class="b-comment__text">') + len('<div class="b-comment__text">')
        end = page.index("</div>", first)
        site.site.put(article_path(13), (page[:first] + text + page[end:]).encode())
        stack.start_workers()
        stack.cli("enqueue", site.base_url + article_path(13))
        stack.wait_idle(timeout=90)
        view = json.loads(stack.cli("show", site.base_url + article_path(13), "--json").stdout)
    assert view["record"]["title"] == f"{HOSTILE_TITLE} (13)"
    assert view["comments"][0]["text"] == COMMENT
    counts = stack.counts()  # the DROP TABLE and DELETE in the text did nothing
    assert counts["articles"] >= 1 and counts["comments"] >= 1
