"""The image's recipe: hadolint finds nothing in the Dockerfile, which installs exactly requirements.lock,
and the lock pins (with hashes) every dependency pyproject.toml declares, at a version it allows."""

from __future__ import annotations

import re
import subprocess
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.integration.deploy.conftest import REPO, tool

DOCKERFILE = REPO / "Dockerfile"
LOCK = REPO / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def locked() -> dict[str, list[tuple[str, str | None]]]:
    """Pinned versions per canonical name (a name may be pinned twice, under exclusive markers)."""
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            pins.setdefault(canonicalize_name(name), []).append((version, marker))
    return pins


def test_hadolint_finds_nothing():
    done = subprocess.run([tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_dockerfile_installs_the_lock_then_the_project_without_resolving_anything():
    runs = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("RUN pip ")]
    assert runs == [
        "RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock",
        "RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check",
    ]
    assert "USER 10001" in DOCKERFILE.read_text().splitlines()


def test_the_lock_pins_every_declared_dependency_with_hashes_at_an_allowed_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = locked()
    wanted = [Requirement(r) for r in project["project"]["dependencies"] + project["build-system"]["requires"]]
    for requirement in wanted:
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements.lock: run `make lock`"
        for version, _ in versions:
            assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
    text = LOCK.read_text()
    pinned = sum(len(v) for v in pins.values())
    assert len(re.findall(r"(?m)^\S+==", text)) == pinned  # every requirement line is an exact pin...
    assert len(re.findall(r"(?m)^\S+==.*\\\n\s+--hash=sha256:[0-9a-f]{64}", text)) == pinned  # ...with hashes
    assert "#    make lock" in text
