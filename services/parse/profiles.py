"""Site profiles: declarative per-site extraction rules, one TOML file per site.

A profile names CSS selectors for the fields it knows and the site's time zone, so
supporting a new site is a data change. A profile applies when the page's host is one
of its `hosts` (or a subdomain), or when every `fingerprint` selector matches, so that
mirrored or locally served copies of a page still get their site's rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml.html import HtmlElement

from services.parse.text import element_text, multiline_text
from services.parse.tree import compile_css, select

PROFILE_DIR = Path(__file__).with_name("profiles")
_SECTIONS = ("article", "images", "comments")


# Fields a comments endpoint's items may name, by the JSON path of each (`[comments_api.fields]`).
COMMENT_FIELDS = ("id", "parent", "author", "text", "posted", "edited", "deleted")


@dataclass(frozen=True, slots=True)
class CommentsApi:
    """A site's comments JSON endpoint: the URL template and where its variables are on the page,
    the JSON path of the list and of each field, how text is written, the zone and page bound."""

    url: str
    variables: dict[str, str] = field(default_factory=dict)
    items: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    text_format: str = "html"  # "html" (markup, <p>/<br>) or "text" (plain, newlines)
    timezone: str | None = None
    first_page: int = 1
    max_pages: int = 10


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """One site's rules: selectors per section (`article`, `images`, `comments`) and a time zone."""

    name: str
    hosts: tuple[str, ...] = ()
    fingerprint: tuple[str, ...] = ()
    timezone: str | None = None
    article: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    comments_api: CommentsApi | None = None

    @property
    def tzinfo(self) -> ZoneInfo | None:
        """The site's wall-clock zone, used for dates printed without an offset."""
        return _zone(self.timezone)

    @property
    def comments_tzinfo(self) -> ZoneInfo | None:
        """The zone of the comments endpoint's naive times (its own setting, else the site's)."""
        return _zone(self.comments_api.timezone if self.comments_api else None) or self.tzinfo


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def load_profile(path: Path) -> SiteProfile:
    """Read and validate one profile file (selectors are compiled now so typos fail early)."""
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    sections = {name: {k: str(v) for k, v in data.get(name, {}).items()} for name in _SECTIONS}
    profile = SiteProfile(
        name=str(data.get("name") or path.stem),
        hosts=tuple(h.lower() for h in data.get("hosts", ())),
        fingerprint=tuple(data.get("fingerprint", ())),
        timezone=data.get("timezone"),
        comments_api=_load_comments_api(data.get("comments_api")),
        **sections,
    )
    api_specs = list(profile.comments_api.variables.values()) if profile.comments_api else []
    for selector in (*profile.fingerprint, *[v for s in sections.values() for v in s.values()], *api_specs):
        css, _ = split_spec(selector)
        if css:
            compile_css(css)
    return profile


def _load_comments_api(data: dict[str, Any] | None) -> CommentsApi | None:
    """The `[comments_api]` table; unknown field names and a bad text format fail at load time."""
    if not data:
        return None
    fields = {str(k): str(v) for k, v in data.get("fields", {}).items()}
    unknown = set(fields) - set(COMMENT_FIELDS)
    if unknown or "text" not in fields:
        raise ValueError(f"comments_api.fields: unknown {sorted(unknown)} or no text path")
    text_format = str(data.get("text_format", "html"))
    if text_format not in ("html", "text"):
        raise ValueError(f"comments_api.text_format must be html or text, not {text_format!r}")
    return CommentsApi(
        url=str(data["url"]),
        variables={str(k): str(v) for k, v in data.get("variables", {}).items()},
        items=str(data.get("items", "")),
        fields=fields,
        text_format=text_format,
        timezone=data.get("timezone"),
        first_page=int(data.get("first_page", 1)),
        max_pages=max(1, min(int(data.get("max_pages", 10)), 100)),
    )


def find_profile(name: str) -> SiteProfile | None:
    """A shipped profile by name (a record names the profile whose comments endpoint it uses)."""
    return next((p for p in all_profiles() if p.name == name), None)


@lru_cache(maxsize=1)
def all_profiles() -> tuple[SiteProfile, ...]:
    """Every profile shipped in `profiles/`, loaded once per process."""
    return tuple(load_profile(path) for path in sorted(PROFILE_DIR.glob("*.toml")))


def match_profile(root: HtmlElement, url: str) -> SiteProfile | None:
    """The profile for this page: by host first, then by markup fingerprint."""
    host = (urlsplit(url).hostname or "").lower()
    profiles = all_profiles()
    for profile in profiles:
        if any(host == h or host.endswith("." + h) for h in profile.hosts):
            return profile
    for profile in profiles:
        if profile.fingerprint and all(select(root, css) for css in profile.fingerprint):
            return profile
    return None


def split_spec(spec: str) -> tuple[str, str | None]:
    """Split `"css @attr"` into (css, attr); `"@attr"` reads the context element itself."""
    css, sep, attribute = spec.rpartition("@")
    if not sep or " " in attribute.strip() or "[" in attribute or "]" in attribute:
        return spec.strip(), None
    return css.strip(), attribute.strip()


def spec_elements(context: HtmlElement, spec: str | None) -> list[HtmlElement]:
    """Elements a spec points at (the context itself for a bare `@attr`)."""
    if not spec:
        return []
    css, _ = split_spec(spec)
    return select(context, css) if css else [context]


def spec_values(context: HtmlElement, spec: str | None, *, multiline: bool = False) -> list[str]:
    """Every non-empty value a spec selects: attribute values or normalised element text."""
    if not spec:
        return []
    _, attribute = split_spec(spec)
    values = []
    for element in spec_elements(context, spec):
        if attribute:
            value = (element.get(attribute) or "").strip()
        else:
            value = multiline_text(element) if multiline else element_text(element)
        if value:
            values.append(value)
    return values


def spec_value(context: HtmlElement, spec: str | None, *, multiline: bool = False) -> str | None:
    """The first value a spec selects, or None."""
    values = spec_values(context, spec, multiline=multiline)
    return values[0] if values else None
