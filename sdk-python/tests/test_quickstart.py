from __future__ import annotations

import os
import subprocess
import sys

from conftest import Live
from quickstart import SPEC_QUICKSTART, readme_quickstart

from secr import SecrClient


def test_the_readme_quick_start_is_the_spec_quick_start() -> None:
    # The spec's text lost its indentation; everything else must be identical, line for line.
    readme = [line.strip() for line in readme_quickstart().splitlines() if line.strip()]
    assert readme == SPEC_QUICKSTART.splitlines()


def test_the_quick_start_runs_unchanged_against_the_server(live: Live) -> None:
    with SecrClient(token=live.token, api_url=live.api_url) as admin:
        admin.set_secret("my-org", "my-project", "production", "PYTEST_DATABASE_URL", "postgres://app@db/app")
        # Setting a key to its current value writes nothing (no new version), so the quick start's write is
        # seen by removing the key first: it is back only if a quick start wrote it (this one, or the wheel's
        # run of the same script that the harness may start at the same time).
        if any(s.key == "API_KEY" for s in admin.list_keys("my-org", "my-project", "dev").keys):
            admin.delete_secret("my-org", "my-project", "dev", "API_KEY")

        env = {**os.environ, "SECR_API_URL": live.api_url, "SECR_TEST_TOKEN": live.token}
        here = os.path.dirname(__file__)
        run = subprocess.run(
            [sys.executable, os.path.join(here, "quickstart.py")], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        assert "PYTEST_DATABASE_URL=postgres://app@db/app" in run.stdout.splitlines()

        dev = {s.key: s for s in admin.pull_secrets("my-org", "my-project", "dev").secrets}
        assert dev["API_KEY"].value == "sk-..."
