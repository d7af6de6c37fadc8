"""Web archives end to end: a WARC written here from the bundled site's pages (with a non-HTML record,
a revisit, a corrupt record and one page captured twice) imported with real workers on Postgres and
Redis and read back; then exported, read back with warcio byte for byte, and imported again into an
empty embedded (SQLite) store, which ends up with the same articles."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from shared import models
from shared.db import session_scope
from tests.e2e.stack import REPO
from tests.e2e.test_repoll import EDITED, NEW, REMOVED, SEED, snapshot
from tests.helpers.warcs import WarcBuilder

pytestmark = pytest.mark.e2e

T0 = datetime(2017, 3, 29, 12, 0, tzinfo=UTC)
RELATED = [
    "/politics/201702151050718436-lavrov-tillerson-ukraine-bonn/",
    "/politics/201702151050687841-tillerson-kosovo-support/",
    "/us/201702161050779807-tillerson-georgia-japan-ministers/",
    "/politics/201702101050526390-tillerson-mogherini-syria-ukraine/",
]
# Linked from a page in the archive but not in it: queued by the links stage and fetched live.
LEFT_OUT = "/politics/201702091050491406-tillerson-mexico-dialogue/"


def build_warc(site, path: Path) -> dict[str, int]:
    """The archive, with the offsets the test checks; `site` serves the pages it holds."""
    base = site.base_url
    w = WarcBuilder()
    w.warcinfo()
    site.set_version("first")
    w.request(base + SEED, T0)
    w.resource(base + SEED, site.resource(SEED), T0)
    for i, page in enumerate(RELATED):
        w.request(base + page, T0 + timedelta(minutes=i + 1))
        w.resource(base + page, site.resource(page), T0 + timedelta(minutes=i + 1))
    w.metadata(base + RELATED[0], T0)
    w.resource(base + "/rss.xml", site.resource("/rss.xml"), T0)
    w.resource(base + "/broken/image.png", site.resource("/broken/image.png"), T0)
    w.resource(base + "/broken/404", site.resource("/broken/404"), T0)
    w.revisit(base + RELATED[0], T0 + timedelta(days=1), T0 + timedelta(minutes=1))
    corrupt = w.corrupt(base + "/", site.resource("/").body, T0)
    # The same page captured again: unchanged bytes, then the seed 4 hours later (revised, comments changed).
    w.resource(base + RELATED[1], site.resource(RELATED[1]), T0 + timedelta(hours=2))
    site.set_version("revised")
    w.resource(base + SEED, site.resource(SEED), T0 + timedelta(hours=4))
    site.set_version("first")
    path.write_bytes(w.getvalue())
    return {"corrupt": corrupt, "records": len(w.offsets)}


def newsflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`newsflow ARGS` in an environment of its own (the embedded store of the re-import)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | env
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args], cwd=REPO, env=full, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def articles_of(database_url: str) -> dict[str, tuple]:
    with session_scope(database_url) as session:
        rows = session.execute(select(models.Article)).scalars().all()
        return {
            a.canonical_url: (a.title, a.lead, a.body, a.published_at, a.revision_count, a.comment_count) for a in rows
        }


def test_import_with_real_workers_then_export_and_reimport_into_an_empty_store(stack, site, tmp_path):
    base = site.base_url
    archive = tmp_path / "demo.warc.gz"
    built = build_warc(site, archive)
    stack.start_workers()

    report = json.loads(stack.cli("import-warc", str(archive), "--json").stdout)
    stack.wait_idle(timeout=120)

    assert {k: v for k, v in report.items() if k not in ("files", "problems", "seconds", "records_per_second")} == {
        "records": built["records"],
        "captures": 7,
        "queued": 6,  # the seed twice (the second once the first was through), four related pages
        "unchanged": 1,  # the related page captured again with the same bytes
        "older": 0,
        "waiting": 0,
        "skipped": {
            "warcinfo": 1,
            "request": 5,
            "metadata": 1,
            "not_html": 2,
            "not_200": 1,
            "revisit": 1,
            "corrupt": 1,
        },
    }
    assert [(p["file"], p["offset"], p["reason"]) for p in report["problems"]] == [
        (str(archive), built["corrupt"], "corrupt")
    ]

    # Every archived page went through parse, enrich and links without a request to the site; the
    # page they link that the archive lacks was queued by the links stage and fetched live.
    assert stack.url_states() == {f"{base}{p}": ("done", None) for p in [SEED, *RELATED, LEFT_OUT]}
    assert {p: site.hits(p) for p in [SEED, *RELATED, LEFT_OUT]} == {**dict.fromkeys([SEED, *RELATED], 0), LEFT_OUT: 1}
    seed = snapshot(stack, f"{base}{SEED}")
    assert [(r[0], r[1]) for r in seed["revisions"]] == [(1, []), (2, ["body"])]
    assert len(seed["comments"]) == 23 and seed["comments"][REMOVED] == ("NoMoreWars", 1, True)
    first_keys = set(seed["comments"]) - NEW
    assert sorted(seed["events"][:20]) == sorted((key, "new", 1) for key in first_keys)
    assert sorted(seed["events"][20:]) == sorted(
        [(k, "new", 1) for k in NEW] + [(EDITED, "edited", 2), (REMOVED, "deleted", 1)]
    )
    with session_scope(stack.database_url) as session:
        fetched = session.execute(
            select(models.Url.url, models.Fetch.first_fetched_at, models.Fetch.last_fetched_at)
            .join(models.Url, models.Url.id == models.Fetch.url_id)
            .where(models.Url.url.in_([f"{base}{SEED}", f"{base}{RELATED[1]}"]))
            .order_by(models.Fetch.first_fetched_at)
        ).all()
    assert [tuple(r) for r in fetched] == [
        (f"{base}{SEED}", T0, T0),
        (f"{base}{RELATED[1]}", T0 + timedelta(minutes=2), T0 + timedelta(hours=2)),
        (f"{base}{SEED}", T0 + timedelta(hours=4), T0 + timedelta(hours=4)),
    ]

    # The same file again: nothing changes.
    before = stack.counts()
    again = json.loads(stack.cli("import-warc", str(archive), "--json").stdout)
    stack.wait_idle(timeout=60)
    assert (again["captures"], again["queued"], again["unchanged"], again["older"]) == (7, 0, 6, 1)
    assert stack.counts() == before

    # Export: every fetch, its bytes as served, its headers (the live one's too).
    out = tmp_path / "export.warc.gz"
    assert stack.cli("export-warc", str(out)).stdout == f"7 response records written to {out}\n"
    site.set_version("revised")
    revised = site.resource(SEED).body
    site.set_version("first")
    records = [
        (
            r.rec_type,
            r.rec_headers.get_header("WARC-Target-URI"),
            r.http_headers and r.http_headers.protocol + " " + r.http_headers.statusline,
            r.http_headers and [name for name, _ in r.http_headers.headers],
            r.content_stream().read(),
        )
        for r in ArchiveIterator(io.BytesIO(out.read_bytes()))
    ]
    archived = ["Content-Type", "Content-Length"]
    live = ["Server", "Date", "Content-Type", "Content-Length", "ETag", "Cache-Control", "Last-Modified"]
    assert records[0][0] == "warcinfo"
    assert [r[:4] for r in records[1:]] == [
        ("response", f"{base}{SEED}", "HTTP/1.1 200 OK", archived),
        *[("response", f"{base}{p}", "HTTP/1.1 200 OK", archived) for p in RELATED],
        ("response", f"{base}{SEED}", "HTTP/1.1 200 OK", archived),
        ("response", f"{base}{LEFT_OUT}", "HTTP/1.1 200 OK", live),
    ]
    assert [r[4] for r in records[1:]] == [
        site.resource(SEED).body,
        *[site.resource(p).body for p in RELATED],
        revised,
        site.resource(LEFT_OUT).body,
    ]

    # Into an empty embedded store (SQLite, no broker): the same articles.
    embedded = {
        "NEWSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'reimport.db'}",
        "NEWSFLOW_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSFLOW_POLITENESS_DELAY": "0",
    }
    reimport = json.loads(newsflow(embedded, "import-warc", str(out), "--json").stdout)
    assert (reimport["captures"], reimport["queued"], reimport["skipped"]) == (7, 7, {"warcinfo": 1})
    newsflow(embedded, "run", "--until-idle")
    assert articles_of(embedded["NEWSFLOW_DATABASE_URL"]) == articles_of(stack.database_url)
    assert len(articles_of(stack.database_url)) == 6
