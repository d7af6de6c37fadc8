"""docker-compose.yml is safe by default: checked as text (what it says) and rendered by Docker Compose
itself (`docker-compose config`, no daemon needed; the binary comes with the dev extras), as `docker compose
up` would read it from .env."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.deploy.conftest import REPO, tool

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SECRETS = ("NEWSFLOW_API_TOKEN", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
NEWSFLOW_SERVICES = ("migrate", "ingest", "parse", "enrich", "beat", "api")
LONG_RUNNING = ("ingest", "parse", "enrich", "beat", "api")
FILLED = {
    "NEWSFLOW_API_TOKEN": "9f3e51b0c27d4a86e1f0b5c3d2a7e8f49f3e51b0c27d4a86e1f0b5c3d2a7e8f4",
    "POSTGRES_PASSWORD": "4c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b",
    "GRAFANA_ADMIN_PASSWORD": "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
}


def env_file(tmp_path: Path, **values: str) -> Path:
    """.env.example with these values filled in, as an operator's .env."""
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values.pop(name)}" if not line.startswith("#") and name in values else line)
    path = tmp_path / ".env"
    path.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")
    return path


def compose_config(tmp_path: Path, env: Path) -> subprocess.CompletedProcess[str]:
    """`docker compose config` of the repository's file with `env` as .env and nothing from our environment."""
    where = ["--project-directory", str(REPO), "-f", str(COMPOSE), "--env-file", str(env)]
    return subprocess.run(
        [tool("docker-compose"), *where, "config", "--format", "json"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def rendered(tmp_path: Path, **values: str) -> dict:
    done = compose_config(tmp_path, env_file(tmp_path, **values))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_file_as_written_publishes_only_on_loopback_and_never_redis_or_postgres():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert published == {
        "api": ["${NEWSFLOW_BIND_ADDRESS:-127.0.0.1}:${NEWSFLOW_API_PORT:-8000}:8000"],
        "prometheus": ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"],
        "grafana": ["${NEWSFLOW_BIND_ADDRESS:-127.0.0.1}:${GRAFANA_PORT:-3000}:3000"],
    }
    assert "expose" not in services["redis"] and "expose" not in services["postgres"]
    text = COMPOSE.read_text()
    for secret in SECRETS:  # required wherever it is read: `${NAME:?message}`, never a default
        assert set(re.findall(rf"\$\{{{secret}(..)", text)) == {":?"}, secret


def test_every_variable_the_file_reads_is_documented_in_env_example_with_no_secret_filled_in():
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    lines = [line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"[A-Z_]+=", line)]
    documented = dict(lines)
    assert len(documented) == len(lines) and set(documented) == used
    assert [documented[name] for name in SECRETS] == ["", "", ""]


def test_env_is_git_ignored_and_env_example_is_not():
    ignored = subprocess.run(["git", "check-ignore", ".env", ".env.example"], cwd=REPO, capture_output=True, text=True)
    assert ignored.stdout.split() == [".env"]


@pytest.mark.parametrize("filled", [{}, {"NEWSFLOW_API_TOKEN": FILLED["NEWSFLOW_API_TOKEN"]}], ids=["none", "one"])
def test_compose_refuses_to_start_until_every_secret_is_set(tmp_path: Path, filled: dict[str, str]):
    done = compose_config(tmp_path, env_file(tmp_path, **filled))
    assert done.returncode != 0
    missing = set(re.findall(r"required variable (\w+) is missing a value: set \1 in \.env", done.stderr))
    assert missing == set(SECRETS) - set(filled), done.stderr


def test_rendered_defaults_listen_on_loopback_only(tmp_path: Path):
    services = rendered(tmp_path, **FILLED)["services"]
    published = {
        (name, p["host_ip"], p["published"], p["target"]) for name, s in services.items() for p in s.get("ports", [])
    }
    assert published == {
        ("api", "127.0.0.1", "8000", 8000),
        ("prometheus", "127.0.0.1", "9090", 9090),
        ("grafana", "127.0.0.1", "3000", 3000),
    }
    grafana = services["grafana"]["environment"]
    assert (grafana["GF_AUTH_ANONYMOUS_ENABLED"], grafana["GF_USERS_ALLOW_SIGN_UP"]) == ("false", "false")
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == FILLED["GRAFANA_ADMIN_PASSWORD"]
    api = services["api"]["environment"]
    assert (api["NEWSFLOW_API_TOKEN"], api["NEWSFLOW_API_PUBLIC_READS"]) == (FILLED["NEWSFLOW_API_TOKEN"], "false")
    password = FILLED["POSTGRES_PASSWORD"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == password
    for name in NEWSFLOW_SERVICES:
        assert services[name]["environment"]["NEWSFLOW_DATABASE_URL"] == (
            f"postgresql+psycopg://newsflow:{password}@postgres:5432/newsflow"
        )


def test_a_bind_address_opens_the_api_and_grafana_but_never_prometheus(tmp_path: Path):
    services = rendered(tmp_path, **FILLED, NEWSFLOW_BIND_ADDRESS="0.0.0.0", GRAFANA_ANONYMOUS_ENABLED="true")[
        "services"
    ]
    assert [p["host_ip"] for p in services["api"]["ports"]] == ["0.0.0.0"]
    assert [p["host_ip"] for p in services["grafana"]["ports"]] == ["0.0.0.0"]
    assert [p["host_ip"] for p in services["prometheus"]["ports"]] == ["127.0.0.1"]
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"


def test_newsflow_services_run_read_only_with_healthchecks_and_wait_for_healthy_backends(tmp_path: Path):
    services = rendered(tmp_path, **FILLED)["services"]
    for name in NEWSFLOW_SERVICES:
        service = services[name]
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"], name
        assert service["cap_drop"] == ["ALL"] and service["security_opt"] == ["no-new-privileges:true"], name
        assert service["environment"]["NEWSFLOW_METRICS_PORT"] == "9100"
    for name in LONG_RUNNING:
        depends = {dep: d["condition"] for dep, d in services[name]["depends_on"].items()}
        assert depends == {
            "migrate": "service_completed_successfully",
            "postgres": "service_healthy",
            "redis": "service_healthy",
        }, name
        check = services[name]["healthcheck"]["test"]
        assert check[:3] == ["CMD", "python", "-c"], name  # the slim image has no curl
        assert "/readyz" in check[3] if name == "api" else "NEWSFLOW_METRICS_PORT" in check[3], name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy", "required": True}}
    assert "healthcheck" not in services["migrate"]
