"""Fixtures of the tests against a live secr server.

The harness (test/python-sdk/python-sdk.e2e-spec.ts, run by `npm test`) starts the server on a fresh
database, registers a user, creates the org `my-org` with project `my-project` and passes:

- SECR_TEST_API_URL   the server's base URL
- SECR_TEST_TOKEN     a read_write secr_cli_ token of the org's owner
- SECR_TEST_READ_TOKEN a read-only token of the same owner
- SECR_TEST_ORG / SECR_TEST_ORG_ID  the org's slug and id
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Iterator, Tuple

import httpx
import pytest

from local_servers import Relay
from secr import SecrClient


@dataclass(frozen=True)
class Live:
    api_url: str
    token: str
    read_token: str
    org: str
    org_id: str

    def create_project(self) -> str:
        """A fresh project (development, staging, production) in the org: every test gets its own."""
        return self.create_project_with_id()[0]

    def create_project_with_id(self) -> Tuple[str, str]:
        """create_project(), with the project's id: (slug, id)."""
        slug = f"py-{secrets.token_hex(4)}"
        res = httpx.post(
            f"{self.api_url}/v1/projects/{self.org_id}",
            json={"name": slug, "slug": slug},
            headers={"authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert res.status_code == 201, f"creating a project failed: {res.status_code} {res.text}"
        return slug, str(res.json()["id"])


NAMES = ("SECR_TEST_API_URL", "SECR_TEST_TOKEN", "SECR_TEST_READ_TOKEN", "SECR_TEST_ORG", "SECR_TEST_ORG_ID")


@pytest.fixture(scope="session")
def live() -> Live:
    missing = [n for n in NAMES if not os.environ.get(n)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: these tests run against a live secr server. Run them with "
            "`npx jest test/python-sdk` (or `npm test`) from the repository, which starts one.",
            pytrace=False,
        )
    e = os.environ
    return Live(e["SECR_TEST_API_URL"], e["SECR_TEST_TOKEN"], e["SECR_TEST_READ_TOKEN"], e["SECR_TEST_ORG"], e["SECR_TEST_ORG_ID"])


@pytest.fixture
def project(live: Live) -> str:
    return live.create_project()


@pytest.fixture
def client(live: Live) -> Iterator[SecrClient]:
    with SecrClient(token=live.token, api_url=live.api_url, timeout=30) as c:
        yield c


@pytest.fixture
def relay(live: Live) -> Iterator[Relay]:
    """A relay to the live server whose connections the test can cut."""
    r = Relay(live.api_url)
    yield r
    r.close()
