"""What the image will do, minus Docker: the Dockerfile's own steps install newsflow into a clean venv from
only the files it copies (requirements.lock, then the project, built by the lock's setuptools), and from
outside the checkout that install runs `newsflow db upgrade`, a worker per service, beat and the API on
Postgres and Redis. The demo site's feed goes in through the API and its articles come back through it
with their comments; compose's healthchecks pass against the running processes; and the processes write
nothing outside the temp folder (the image's root filesystem is read-only, /tmp a tmpfs)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.stack import REPO, SERVICES, running_stack
from tests.helpers.servers import free_port, wait_http_ok

pytestmark = pytest.mark.e2e

TOKEN = "7c2f0e9a41b35d8e6f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"
SITE_EXPECTED = json.loads((REPO / "services" / "demosite" / "expected.json").read_text())
IMAGE_TMP = "/tmp"  # the image's only writable folder (a tmpfs in docker-compose.yml)
# Every module of the installed packages imports with only the lock's dependencies; prints where they live.
IMPORT_EVERYTHING = """
import importlib, pkgutil, shared, services
for package in (shared, services):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
print(shared.__file__)
"""


def dockerfile_steps() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    steps = [line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(step[0].upper(), step[1]) for step in steps]


def build_like_the_dockerfile(work: Path) -> tuple[Path, dict[str, str]]:
    """Copy what the Dockerfile copies into work/app and run its pip steps there with a clean venv's pip.
    Returns the venv and the Dockerfile's ENV, its /tmp paths moved into work/tmp."""
    app, venv = work / "app", work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env_from_image: dict[str, str] = {}
    for instruction, args in dockerfile_steps():
        if instruction == "COPY":
            *sources, dest = args.split()
            for source in sources:
                target = app / dest / source if dest.endswith("/") else app / dest
                if (REPO / source).is_dir():
                    shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / source, target)
        elif instruction == "ENV":
            pairs = dict(token.split("=", 1) for token in shlex.split(args))
            env_from_image.update({k: v.replace(IMAGE_TMP, str(work / "tmp"), 1) for k, v in pairs.items()})
        elif instruction == "RUN" and args.startswith("pip "):
            # The machine's pip cache instead of --no-cache-dir: the same files, without downloading them again.
            command = args.replace(" --no-cache-dir", "")
            env = {**os.environ, **env_from_image, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
            env.pop("PIP_NO_CACHE_DIR", None)
            done = subprocess.run(
                ["bash", "-c", command], cwd=app, env=env, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return venv, env_from_image


def run_healthcheck(service: dict, port: str, env: dict[str, str], cwd: Path) -> int:
    """Exit status of a compose service's healthcheck (["CMD", ...]) run as Docker would inside its
    container, with the service listening on `port` here (compose: 8000 for the API, metrics on 9100)."""
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [part.replace(":8000/", f":{port}/") for part in test[1:]]
    return subprocess.run(argv, env={**env, "NEWSFLOW_METRICS_PORT": port}, cwd=cwd, capture_output=True).returncode


def test_the_image_install_runs_the_stack_from_outside_the_checkout(postgres_admin_url, redis_url, tmp_path, site):
    venv, image_env = build_like_the_dockerfile(tmp_path)
    installed_at = time.time()
    run, home, tmp = tmp_path / "run", tmp_path / "home", tmp_path / "tmp"
    for folder in (run, home, tmp):
        folder.mkdir()
    env = {
        **image_env,
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "VIRTUAL_ENV": str(venv),
        "PYTHONPATH": "",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "NEWSFLOW_API_TOKEN": TOKEN,
    }
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", IMPORT_EVERYTHING],
        cwd=run,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv / "lib")), where.stdout  # the installed copy, not the checkout

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    with running_stack(
        postgres_admin_url, redis_url, tmp_path / "logs", command=(str(venv / "bin" / "newsflow"),), cwd=run, **env
    ) as stack:
        ports = {}
        for name in (*SERVICES, "beat"):
            ports[name] = stack.extra_env["NEWSFLOW_METRICS_PORT"] = str(free_port())
            args = ("beat",) if name == "beat" else ("worker", name, "--concurrency=1")
            stack.start(name, *args)
        ports["api"] = str(free_port())
        api_proc = stack.start("api", "api", "--host", "127.0.0.1", "--port", ports["api"])
        base = f"http://127.0.0.1:{ports['api']}"
        wait_http_ok(f"{base}/readyz", api_proc)

        with httpx.Client(base_url=base, timeout=10) as api:
            added = api.post("/feeds", json={"url": f"{site.base_url}/rss.xml"}, headers=AUTH)
            assert (added.status_code, added.json()["items"][0]["status"]) == (201, "added"), added.text
            stack.wait_idle(timeout=90)
            listed = api.get("/articles", params={"site": "127.0.0.1", "limit": 50}, headers=AUTH).json()["items"]
            ids = {a["canonical_url"].removeprefix(site.base_url): a["id"] for a in listed}
            allowed = {
                path: want for path, want in SITE_EXPECTED.items() if path.startswith("/") and want["robots_allowed"]
            }
            assert set(ids) == {SEED, *allowed}
            seed = api.get(f"/articles/{ids[SEED]}", headers=AUTH).json()
            assert seed["record"]["title"] == "Awkward: Tillerson and Lavrov First Meeting Makes Journalists Cringe"
            assert len(seed["comments"]) == 20 and seed["comments"][0]["versions"][0]["version"] == 1
            for path, want in allowed.items():
                article = api.get(f"/articles/{ids[path]}", headers=AUTH).json()
                assert article["record"]["title"] == want["title"]
                assert [c["author"] for c in article["comments"]] == want["comment_authors"]

        # docker-compose.yml's healthchecks, run as Docker runs them inside each container.
        env_inside = {**os.environ, **stack.env}
        statuses = {name: run_healthcheck(compose[name], port, env_inside, run) for name, port in ports.items()}
        assert statuses == dict.fromkeys(ports, 0)
        assert run_healthcheck(compose["parse"], str(free_port()), env_inside, run) == 1  # nothing listening there

    # Read-only root: nothing written to the home folder, the working folder or the installed files.
    assert list(home.iterdir()) == [] and list(run.iterdir()) == []
    assert [p for p in venv.rglob("*") if p.lstat().st_mtime > installed_at] == []
