"""Serve the demo site until killed: `python -m services.demosite --port 8765` prints the base URL first."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from services.demosite.server import DemoSite


def main(argv: list[str] | None = None) -> int:
    """Start the site, print its base URL as stdout's first line, and serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m services.demosite", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    parser.add_argument("--seed-version", choices=("first", "later"), default="first", help="seed page to serve first")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    site = DemoSite(args.host, args.port)
    site.set_version(args.seed_version)
    site.start()
    print(site.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
