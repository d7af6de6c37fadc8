"""The HTTP API end to end: uvicorn serving `newsflow api`, real Celery workers (one per service)
on Postgres and Redis, the bundled news site as the web. Queue through the API, read back through it."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

TOKEN = "9f3e51b0c27d4a86e1f0b5c3d2a7e8f4"  # 32 characters: `newsflow api` refuses a shorter token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(api: httpx.Client, stack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"API not ready after {timeout}s\n{stack.log_tail()}")


def wait_state(api: httpx.Client, stack, url_id: int, states: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = api.get(f"/urls/{url_id}", headers=AUTH).json()
        if state["state"] in states:
            return state
        time.sleep(0.3)
    raise AssertionError(f"URL {url_id} still {state.get('state')} after {timeout}s\n{stack.log_tail()}")


def test_queue_through_the_api_and_read_back(stack, site):
    port = free_port()
    stack.extra_env["NEWSFLOW_API_TOKEN"] = TOKEN
    stack.start_workers()
    stack.start("api", "api", "--host", "127.0.0.1", "--port", str(port))
    seed_url = f"{site.base_url}{SEED}"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
        wait_ready(api, stack)
        refused = api.post("/urls", json={"url": seed_url})
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"

        queued = api.post("/urls", json={"urls": [seed_url, f"{site.base_url}/broken/404"]}, headers=AUTH)
        assert queued.status_code == 202, queued.text
        body = queued.json()
        assert (body["queued"], body["known"], body["published"]) == (2, 0, True)
        seed_id, broken_id = (item["id"] for item in body["items"])

        state = wait_state(api, stack, seed_id, {"done", "failed"})
        assert state["state"] == "done", state
        failed = wait_state(api, stack, broken_id, {"failed"})
        assert failed["last_error"]["reason"] == "http_404"
        again = api.post("/urls", json={"url": seed_url}, headers=AUTH).json()
        assert again["items"] == [{"id": seed_id, "url": seed_url, "status": "known"}]

        article = api.get(f"/articles/{state['article_id']}", headers=AUTH).json()
        assert article["record"]["title"] == "Awkward: Tillerson and Lavrov First Meeting Makes Journalists Cringe"
        assert len(article["comments"]) == 20
        assert all(c["versions"] and c["versions"][0]["version"] == 1 for c in article["comments"])
        assert article["tags"] and article["links_out"]

        events = api.get(f"/articles/{state['article_id']}/comments/events", headers=AUTH).json()
        assert [e["kind"] for e in events["events"]] == ["new"] * 20
        later = api.get(
            f"/articles/{state['article_id']}/comments/events", params={"since": events["next_since"]}, headers=AUTH
        ).json()
        assert later["events"] == []

        listed = api.get("/articles", params={"site": "127.0.0.1", "has_comments": "true"}, headers=AUTH).json()
        assert state["article_id"] in [a["id"] for a in listed["items"]]
        hits = api.get("/search", params={"q": "awkward cringe"}, headers=AUTH).json()["items"]
        assert [h["id"] for h in hits] == [state["article_id"]]
        assert "newsflow_api_requests_total" in api.get("/metrics").text
