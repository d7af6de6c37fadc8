"""`make demo`: the whole pipeline, embedded (SQLite, in-process), on the bundled news site."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SEED_PATH = "/politics/201702161050766466-tillerson-lavrov-meeting-awkward-moment/"


def main() -> int:
    """Serve the demo site, register its feed, run every stage until idle, show the seed article."""
    data = Path(os.environ.get("NEWSFLOW_DEMO_DIR", "demo-data")).resolve()
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    os.environ.setdefault("NEWSFLOW_DATABASE_URL", f"sqlite:///{data / 'newsflow.db'}")
    os.environ.setdefault("NEWSFLOW_FETCH_ALLOW_HOSTS", "127.0.0.1")
    os.environ.setdefault("NEWSFLOW_POLITENESS_DELAY", "0")
    os.environ["NEWSFLOW_BROKER_URL"] = "memory://"

    from services.demosite.server import DemoSite
    from shared.cli import main as newsflow

    # The comments JSON endpoint answers with empty lists here, so the seed shows exactly the 20 comments of
    # its page; tests/e2e/test_comment_json_e2e.py turns the endpoint on and checks the merge.
    with DemoSite() as site:
        print(f"== bundled news site at {site.base_url}; store at {os.environ['NEWSFLOW_DATABASE_URL']}\n")
        steps = [
            ["feeds", "add", f"{site.base_url}/rss.xml"],
            ["run", "--until-idle", "--timeout", "300"],
            ["show", f"{site.base_url}{SEED_PATH}"],
        ]
        for argv in steps:
            print(f"$ newsflow {' '.join(argv)}", flush=True)
            code = newsflow(argv)
            print(flush=True)
            if code:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
