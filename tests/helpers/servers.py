"""Throwaway Redis and Postgres servers in a temp dir, on free ports of 127.0.0.1, that a test may
stop, kill and restart without touching the servers other tests share.

Postgres refuses to run as root, so when we are root its data dir belongs to an unprivileged user
(`postgres` if it exists, else `nobody`) and its commands run through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis as redis_lib


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll `url` until it answers 200; fail at once with the process's output if `proc` exits first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AssertionError(f"{proc.args} exited {proc.returncode} before {url} answered:\n{output}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s")


def _wait_port(port: int, timeout: float, up: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not {'up' if up else 'down'} after {timeout}s")


class RedisServer:
    """`redis-server` without persistence: a restart loses every queued message, as a crash would."""

    def __init__(self, base: Path | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="nf-redis-", dir=base))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """The URL of database `db`."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        """Start (again) on the same port."""
        binary = shutil.which("redis-server") or "redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.dir / "redis.log").open("ab")
        self.proc = subprocess.Popen([*args, "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, 10)
        return self

    def kill(self) -> None:
        """SIGKILL: the server dies with everything it held."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        _wait_port(self.port, 10, up=False)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Kill, stay down a while, start empty on the same port."""
        self.kill()
        time.sleep(down_seconds)
        self.start()

    def info(self, section: str = "all") -> dict[str, object]:
        """INFO of the running server."""
        client = redis_lib.Redis.from_url(self.url())
        try:
            return client.info(section)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop and remove the data dir."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run Postgres as")


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} not found on PATH")
    return found


class PostgresServer:
    """A cluster made by initdb in a temp dir, trust auth on 127.0.0.1, user `postgres`."""

    def __init__(self, base: Path | None = None, *, fsync: bool = True, settings: dict[str, str] | None = None):
        self.user = _unprivileged_user()
        # In the system temp dir when we switch users: a private parent (mkdtemp is 0700) would lock them out.
        self.dir = Path(tempfile.mkdtemp(prefix="nf-pg-", dir=None if self.user else base))
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = {"fsync": "on" if fsync else "off", "max_connections": "200", **(settings or {})}
        if self.user:
            shutil.chown(self.dir, self.user)
        self._run(_pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    @property
    def admin_url(self) -> str:
        """URL of the `postgres` database, allowed to create others."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", self.user, "--", *args] if self.user else list(args)
        done = subprocess.run(cmd, capture_output=True, text=True, cwd="/", timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> PostgresServer:
        """Start (again) on the same port and wait until it accepts connections."""
        options = " ".join(
            [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.dir}"]
            + [f"-c {k}={v}" for k, v in self.settings.items()]
        )
        self._run(
            _pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"), "-o", options, "-w", "start"
        )
        _wait_port(self.port, 30)
        return self

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` closes sessions cleanly, `immediate` is a crash (recovery at next start)."""
        if (self.data / "postmaster.pid").exists():
            self._run(_pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        _wait_port(self.port, 30, up=False)

    def restart(self, down_seconds: float = 0.0, mode: str = "immediate") -> None:
        """Stop (a crash by default), stay down a while, start again."""
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def postmaster_pid(self) -> int | None:
        """The pid of the running postmaster, or None."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def destroy(self) -> None:
        """Stop and remove the cluster."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()
