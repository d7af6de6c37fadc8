"""`newsflow import-warc` and `export-warc` as a user runs them: one-line errors for bad input, the
summary, and the progress line only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.warcs import WarcBuilder
from tests.integration.cli.test_cli import REPO, one_line_error, run

T0 = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
PAGE = b"<!DOCTYPE html><html><head><title>A</title></head><body><p>Story.</p></body></html>"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NEWSFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An archive of one page; the offset of its corrupt span is in `archive.with_suffix(".offset")`."""
    w = WarcBuilder()
    w.warcinfo()
    w.request("https://news.example/a", T0)
    w.response("https://news.example/a", PAGE, T0)
    bad = w.raw(b"garbage between records")
    w.response("https://news.example/logo.png", b"\x89PNG", T0, content_type="image/png")
    path = tmp_path / "a.warc.gz"
    path.write_bytes(w.getvalue())
    path.with_suffix(".offset").write_text(str(bad))
    return path


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (("import-warc", "/nonexistent/x.warc.gz"), "cannot read /nonexistent/x.warc.gz: no such file"),
        (("import-warc", "{archive}", "--since", "yesterday"), "bad --since: 'yesterday' is not an ISO 8601 date"),
        (("import-warc", "{archive}", "--limit", "0"), "bad --limit: give a number of captures, 1 or more"),
        (("import-warc", "{archive}", "--repoll", "soon"), "bad --repoll: not a duration"),
        (("export-warc", "/nonexistent/dir/out.warc.gz"), "cannot write /nonexistent/dir/out.warc.gz: no such folder"),
        (("export-warc", "{archive}.out", "--since", "2024-13-01"), "bad --since: '2024-13-01'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env, archive, args, starts):
    one_line_error(run(*(a.format(archive=archive) for a in args), env=env), 2, starts)


def test_an_unwritable_export_is_one_line_and_exit_1(env, tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "out.warc.gz.part").mkdir()  # the export's partial file cannot be created
    one_line_error(run("export-warc", str(folder / "out.warc.gz"), env=env), 1, f"cannot write {folder}/out.warc.gz")


def test_summary_names_what_was_skipped_and_where_the_corrupt_record_is(env, archive):
    result = run("import-warc", str(archive), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("5 records, 1 HTML captures: 1 queued, 0 unchanged, 0 older than stored, 0 waiting (")
    assert lines[1] == "skipped: corrupt 1, not_html 1, request 1, warcinfo 1"
    offset = archive.with_suffix(".offset").read_text()
    assert lines[2].startswith(
        f"corrupt record at offset {offset} of {archive}: ArchiveLoadFailed: Invalid WARC record"
    )
    assert len(lines) == 3
    # Not a terminal: no progress line, only the embedded mode's hint.
    assert result.stderr == "run `newsflow run --until-idle` to parse them (embedded mode)\n"

    report = json.loads(run("import-warc", str(archive), "--json", env=env).stdout)
    assert (report["queued"], report["unchanged"], report["skipped"]["corrupt"]) == (0, 1, 1)


def test_progress_goes_to_a_terminal(env, archive):
    controller, terminal = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | env
    with subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "import-warc", str(archive)],
        cwd=REPO,
        env=full,
        stdout=subprocess.PIPE,
        stderr=terminal,
    ) as proc:
        os.close(terminal)
        out, _ = proc.communicate(timeout=120)
    written = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    os.close(controller)
    assert proc.returncode == 0
    assert written.startswith(b"\r\x1b[K1 records, 0 queued, skipped: warcinfo 1 (")
    assert b"\r\x1b[K" in written[5:]  # cleared before the summary
    assert out.decode().startswith("5 records, 1 HTML captures: 1 queued")
