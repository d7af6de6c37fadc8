"""Author names and meta-line dates as real comment markup prints them (pure helpers)."""

from __future__ import annotations

import pytest
from lxml.html import fragment_fromstring

from services.parse.comment_fields import author_name, clean_author, date_in_line


@pytest.mark.parametrize(
    ("shown", "name"),
    [
        ("Marta Lind says:", "Marta Lind"),
        ("Modern Wife sagt:", "Modern Wife"),
        ("John on June 5, 2007 at 10:30 am said:", "John"),
        ("by admin » Mon Jan 01, 2024 10:00 am", "admin"),
        ("Submitted by Gerda (not verified) on Mo., 06.05.2019 - 10:10", "Gerda"),
        ("Posted by: Anna | June 05, 2007 at 10:30 AM", "Anna"),
        ("Comment by June Harper", "June Harper"),
        ("Edward Said says:", "Edward Said"),
        ("Jean-Paul", "Jean-Paul"),
        ('"Lügen wie ein Zeitzeuge"', '"Lügen wie ein Zeitzeuge"'),
        ("Mutti, warum bist du nicht so wie die Oma?", "Mutti, warum bist du nicht so wie die Oma?"),
        ("says:", None),
        ("", None),
        (
            "I was there last week and can confirm the situation is even worse than described in the article,"
            " the bridge has been closed for days",
            None,
        ),
    ],
)
def test_clean_author(shown: str, name: str | None) -> None:
    assert clean_author(shown) == name


@pytest.mark.parametrize(
    ("markup", "name"),
    [
        ('<div class="comment-author"><cite>Walter</cite> on June 4th, 2007 said:</div>', "Walter"),
        ('<div class="nickname">Lea <span class="comment-time">2024-01-05 10:31</span></div>', "Lea"),
        ('<p class="author"><a href="#p1"><img alt="Post"></a>by <strong><a>admin</a></strong> &raquo; </p>', "admin"),
        ('<h3 class="username"><a href="/u/pim">pim</a> <span class="title">Regular</span></h3>', "pim"),
        ('<div class="comment-author vcard"><img src="a.png"></div>', None),
    ],
)
def test_author_name_takes_the_name_element(markup: str, name: str | None) -> None:
    element = fragment_fromstring(markup)
    date = next((e for e in element.iter() if "comment-time" in (e.get("class") or "")), None)
    assert author_name(element, date) == name


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("by admin » Sun Feb 18, 2024 9:14 am", "Sun Feb 18, 2024 9:14 am"),
        ("Submitted by lars on Wed, 04/17/2024 - 10:21", "Wed, 04/17/2024 - 10:21"),
        ("posted by Kim | March 3, 2011", "March 3, 2011"),
        ("by Parent of two", None),
        ("3 Likes", None),
    ],
)
def test_date_in_line(line: str, date: str | None) -> None:
    assert date_in_line(line) == date
