"""`newsflow api` as an operator starts it: a guessable token stops it with one line saying how to make
a real one; a served API refuses reads and writes without the token (reads open only by setting)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers.servers import free_port, wait_http_ok

REPO = Path(__file__).resolve().parents[3]
TOKEN = "5d0c6b7f1e2a43988a7c9e0f4b1d2c3e"
FIX = "make one with `openssl rand -hex 32` or `newsflow api --generate-token`"


def api_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """An embedded-mode (SQLite) environment with these NEWSFLOW_ settings and nothing from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(NEWSFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'api.db'}", NEWSFLOW_LOG_LEVEL="WARNING")
    env.update({f"NEWSFLOW_{k.upper()}": v for k, v in settings.items()})
    return env


def newsflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


@contextmanager
def served_api(tmp_path: Path, **settings: str) -> Iterator[httpx.Client]:
    """`newsflow api` on a free port with these settings, until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        newsflow("api", "--port", str(port)),
        cwd=REPO,
        env=api_env(tmp_path, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/readyz", proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"api_token": "change-me"}, "is a well-known placeholder"),
        ({"api_token": "changeme"}, "is a well-known placeholder"),
        ({"api_token": "your-secret-api-token-goes-here-please"}, "is a well-known placeholder"),
        ({"api_token": "0123456789abcdef"}, "is 16 characters long, at least 32 are needed"),
        ({}, "is empty"),
        ({"api_public_reads": "true"}, "is empty"),
    ],
)
def test_a_guessable_token_stops_the_api_with_one_line(tmp_path: Path, settings: dict[str, str], problem: str):
    port = free_port()
    done = subprocess.run(
        newsflow("api", "--port", str(port)),
        cwd=REPO,
        env=api_env(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"newsflow: error: NEWSFLOW_API_TOKEN {problem}: {FIX}")
    assert not (tmp_path / "api.db").exists()  # refused before touching anything


def test_generate_token_prints_a_token_the_api_accepts(tmp_path: Path):
    made = [
        subprocess.run(newsflow("api", "--generate-token"), capture_output=True, text=True, check=True) for _ in "12"
    ]
    tokens = [m.stdout.strip() for m in made]
    assert all(re.fullmatch("[0-9a-f]{64}", t) for t in tokens) and tokens[0] != tokens[1]
    with served_api(tmp_path, api_token=tokens[0]) as api:
        assert api.get("/articles", headers={"Authorization": f"Bearer {tokens[0]}"}).status_code == 200


def test_private_reads_and_writes_without_the_token_are_refused(tmp_path: Path):
    with served_api(tmp_path, api_token=TOKEN) as api:
        for headers in ({}, {"Authorization": "Bearer change-me"}):
            read = api.get("/articles", headers=headers)
            write = api.post("/urls", json={"url": "https://example.com/a"}, headers=headers)
            assert (read.status_code, read.json()["error"]) == (401, "unauthorized")
            assert (write.status_code, write.json()["error"]) == (401, "unauthorized")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert api.get("/articles", headers=auth).json() == {"items": [], "next_cursor": None}
        assert api.post("/urls", json={"url": "https://example.com/a"}, headers=auth).status_code == 202


def test_public_reads_open_reads_only(tmp_path: Path):
    with served_api(tmp_path, api_token=TOKEN, api_public_reads="true") as api:
        assert api.get("/articles").json() == {"items": [], "next_cursor": None}
        write = api.post("/urls", json={"url": "https://example.com/a"})
        assert (write.status_code, write.json()["error"]) == (401, "unauthorized")


def test_a_read_only_api_with_public_reads_may_run_without_a_token(tmp_path: Path):
    with served_api(tmp_path, api_read_only="true", api_public_reads="true") as api:
        assert api.get("/articles").json() == {"items": [], "next_cursor": None}
        write = api.post("/urls", json={"url": "https://example.com/a"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert (write.status_code, write.json()["error"]) == (401, "writes_disabled")
        assert "NEWSFLOW_API_READ_ONLY" in write.json()["detail"]
