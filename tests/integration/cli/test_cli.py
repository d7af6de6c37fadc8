"""The `newsflow` command as a user runs it: a subprocess, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | env
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NEWSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def project(value: Any, shape: Any) -> Any:
    """`value` cut down to the keys `shape` has (records carry extra keys beyond the fixtures')."""
    if isinstance(shape, dict):
        return {k: project(value[k], v) for k, v in shape.items()}
    if isinstance(shape, list) and shape:
        return [project(v, shape[0]) for v in value]
    return value


def one_line_error(result: subprocess.CompletedProcess[str], code: int, starts: str) -> None:
    assert result.returncode == code, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"newsflow: error: {starts}"), result.stderr


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (("enqueue", "not a url"), "invalid URL: URL contains whitespace"),
        (("enqueue", "ftp://example.com/x"), "invalid URL: not an http(s) URL"),
        (("enqueue", "https://example.com/ok", "javascript:alert(1)"), "invalid URL: not an http(s) URL"),
        (("enqueue",), "no URLs given"),
        (("enqueue", "--file", "/nonexistent/urls.txt"), "cannot read /nonexistent/urls.txt"),
        (("feeds", "poll", "https://example.com/never-added.xml"), "unknown feed: https://example.com/never-added.xml"),
        (("show", "https://example.com/never-seen/"), "unknown URL"),
        (("repoll", "https://example.com/never-seen/"), "unknown URL"),
        (("worker", "parse"), "no broker configured"),
        (("prune-fetches",), "nothing to prune: give --keep N (or NEWSFLOW_FETCH_BODIES_KEEP) of at least 1"),
        (("prune-fetches", "--keep", "1", "--batch", "0"), "--batch must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env, args, starts):
    one_line_error(run(*args, env=env), 2, starts)


def test_unreachable_database_and_broker(env, postgres_admin_url):
    dead_pg = {"NEWSFLOW_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    one_line_error(run("status", env=dead_pg), 1, "database unreachable (postgresql+psycopg://nobody@127.0.0.1:1/none)")
    dead_broker = env | {"NEWSFLOW_BROKER_URL": "redis://127.0.0.1:1/0"}
    result = run("enqueue", "https://example.com/a", env=dead_broker)
    one_line_error(result, 1, "broker unreachable")
    # The URL was stored before publishing: the scheduler's sweep will dispatch it.
    status = json.loads(run("status", "--json", env=env).stdout)
    assert status["states"] == {"queued": 1}


def test_enqueue_twice_file_and_stdin(env, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("# a comment\nhttps://example.com/a\n\nhttps://EXAMPLE.com/a#frag\n")
    first = run("enqueue", "--file", str(listing), env=env)
    assert first.returncode == 0
    assert [line.split("\t") for line in first.stdout.splitlines()] == [
        ["1", "queued", "https://example.com/a"],
        ["1", "known", "https://example.com/a"],
    ]
    again = run(
        "enqueue", "--file", "-", "https://example.com/b", env=env, input="https://example.com/a?utm_source=x\n"
    )
    assert [line.split("\t")[1] for line in again.stdout.splitlines()] == ["queued", "known"]
    assert json.loads(run("status", "--json", env=env).stdout)["states"] == {"queued": 2}


def test_prune_fetches_applies_retention_to_the_stored_bodies(env):
    from shared.db import session_scope, upgrade_database
    from shared.store import frontier
    from tests.helpers.pages import save_html

    url = env["NEWSFLOW_DATABASE_URL"]
    upgrade_database(url)
    with session_scope(url) as session:
        for n in range(3):
            url_id = frontier.enqueue_url(session, f"https://example.com/{n}").url_id
            for version in range(3):
                save_html(session, url_id, f"https://example.com/{n}", f"<p>{version}</p>".encode(), keep=0)
    result = run("prune-fetches", "--batch", "2", env=env | {"NEWSFLOW_FETCH_BODIES_KEEP": "2"})
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "deleted 3 fetched bodies: each URL keeps its newest 2 and the one its article was parsed from\n"
    )
    again = run("prune-fetches", "--keep", "1", env=env)
    assert again.stdout.startswith("deleted 3 fetched bodies: each URL keeps its newest 1 ")


def test_parse_offline_matches_the_fixture(env):
    page = REPO / "tests" / "fixtures" / "pages" / "sputnik_2017_tillerson_lavrov.html"
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    result = run("parse", "--url", expected["url"], str(page), env=env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert project(record, expected) == expected
    assert record["body_text"].startswith(expected["lead"] + "\n\n" + expected["body_paragraphs"][0])
    stdin = run("parse", "--url", expected["url"], "-", env=env, input=page.read_text(encoding="utf-8"))
    assert project(json.loads(stdin.stdout)["comments"], expected["comments"]) == expected["comments"]
    missing = run("parse", "/nonexistent.html", env=env)
    one_line_error(missing, 1, "/nonexistent.html: cannot read (No such file or directory)")


def test_parse_many_pages_in_one_process(env, tmp_path):
    """`parse --jobs`: each page with its own URL; a missing file or a bad line is reported and the rest go on."""
    pages = REPO / "tests" / "fixtures" / "pages"
    names = ["amp_article", "guardian_style_photograph_credit", "wordpress_html5_threaded"]
    expected = [json.loads((pages / f"{n}.expected.json").read_text(encoding="utf-8")) for n in names]
    lines = [
        json.dumps({"url": e["url"], "path": str(pages / f"{n}.html")}) for n, e in zip(names, expected, strict=True)
    ]
    lines[1:1] = [json.dumps({"url": "https://x.example/a", "path": str(tmp_path / "gone.html")}), "{not json"]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("parse", "--jobs", str(jobs), env=env)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["url"], r["title"]) for r in records] == [(e["url"], e["title"]) for e in expected]
    assert result.stderr.splitlines() == [
        f"newsflow: error: {tmp_path / 'gone.html'}: cannot read (No such file or directory)",
        f"newsflow: error: {jobs}:3: not a job line (JSONDecodeError: Expecting property name enclosed in double"
        " quotes: line 1 column 2 (char 1))",
    ]
    same = run("parse", "--jobs", "-", env=env, input="\n".join(lines[:1]))
    assert (same.returncode, json.loads(same.stdout)["title"]) == (0, expected[0]["title"])
    one_line_error(run("parse", env=env), 2, "nothing to parse")
    one_line_error(run("parse", "--url", "https://x.example/", "a.html", "b.html", env=env), 2, "--url names one page")
