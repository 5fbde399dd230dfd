"""The package itself: configuration, reprs, what importing it costs, connection reuse, Python 3.9."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
import warnings
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import secr
from local_servers import http_server, send_json, url_of
from secr import AsyncSecrClient, Secret, SecrClient, SecretVersion

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "src" / "secr").glob("*.py"))


def test_defaults_are_the_spec_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECR_API_URL", raising=False)
    with SecrClient(token="secr_cli_x") as c:
        assert (c.api_url, c.timeout) == ("https://api.secr.dev", 30.0)


def test_token_and_api_url_come_from_the_environment_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECR_TOKEN", "secr_tok_from_env")
    monkeypatch.setenv("SECR_API_URL", "http://127.0.0.1:9/")
    with SecrClient() as c:
        assert c.api_url == "http://127.0.0.1:9" and c._config.token == "secr_tok_from_env"
    with SecrClient(token="secr_tok_arg", api_url="https://secr.internal/base") as c:
        assert c.api_url == "https://secr.internal/base" and c._config.token == "secr_tok_arg"


def test_a_client_without_a_token_or_with_bad_options_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECR_TOKEN", raising=False)
    with pytest.raises(ValueError, match="SECR_TOKEN"):
        SecrClient()
    with pytest.raises(ValueError, match="token"):
        SecrClient(token="")
    with pytest.raises(ValueError) as e:
        SecrClient(token="secr_tok_abc\r\nX-Evil: 1")
    assert "secr_tok_abc" not in str(e.value)
    for url in ("ftp://x", "api.secr.dev", "http://", "https://h/?q=1"):
        with pytest.raises(ValueError, match="api_url"):
            SecrClient(token="secr_tok_x", api_url=url)
    for timeout in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout"):
            SecrClient(token="secr_tok_x", timeout=timeout)


def test_a_plain_http_api_url_of_another_host_warns_and_loopback_does_not() -> None:
    with pytest.warns(secr.InsecureApiUrlWarning, match=r"http://api\.example\.test:8080 is plain http"):
        SecrClient(token="secr_tok_x", api_url="http://api.example.test:8080").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for url in ("http://127.0.0.1:9", "http://127.8.0.1", "http://[::1]:9", "http://localhost:9", "http://api.localhost", "https://api.example.test"):
            SecrClient(token="secr_tok_x", api_url=url).close()


def test_no_repr_shows_a_token_or_a_secret_value() -> None:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    with SecrClient(token="secr_tok_hidden") as c:
        assert "secr_tok_hidden" not in repr(c) and "secr_tok_hidden" not in repr(vars(c).get("_http"))
        assert "secr_tok_hidden" not in repr(c._config) and "secr_tok_hidden" not in repr(vars(c))
    assert "s3cret" not in repr(Secret("K", "s3cret", 1, now)) and "K" in repr(Secret("K", "s3cret", 1, now))
    assert "s3cret" not in repr(SecretVersion(1, "s3cret", None, "set", now, None))
    assert "s3cret" not in repr([Secret("K", "s3cret", 1, now)])


def test_results_are_frozen_dataclasses() -> None:
    import dataclasses
    from datetime import datetime, timezone

    s = Secret("K", "v", 1, datetime.now(timezone.utc))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.value = "other"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Secret)][:4] == ["key", "value", "version", "updated_at"]


def test_a_closed_client_says_so() -> None:
    c = SecrClient(token="secr_tok_x", api_url="http://127.0.0.1:9")
    c.close()
    c.close()
    with pytest.raises(RuntimeError, match="closed"):
        c.list_templates("o", "p")


def _answer_pull(h: BaseHTTPRequestHandler) -> None:
    send_json(h, 200, {"secrets": [{"key": "A", "value": "1", "version": 1, "updatedAt": "2026-01-02T03:04:05.678Z", "description": None}]})


def test_repeated_calls_reuse_one_connection() -> None:
    with http_server(_answer_pull) as server:
        with SecrClient(token="secr_tok_x", api_url=url_of(server)) as c:
            for _ in range(20):
                assert c.pull_secrets("o", "p", "dev").secrets[0].key == "A"
        assert (len(server.requests), server.connections) == (20, 1)
        assert all(h.get("authorization") == "Bearer secr_tok_x" for _, _, h in server.requests)
        assert server.requests[0][2]["user-agent"].startswith("secr-sdk-python/")


def test_repeated_async_calls_reuse_one_connection() -> None:
    async def main(url: str) -> None:
        async with AsyncSecrClient(token="secr_tok_x", api_url=url) as c:
            for _ in range(20):
                await c.pull_secrets("o", "p", "dev")

    with http_server(_answer_pull) as server:
        asyncio.run(main(url_of(server)))
        assert (len(server.requests), server.connections) == (20, 1)


def test_requests_go_under_an_api_url_path_and_carry_their_query() -> None:
    with http_server(_answer_pull) as server, SecrClient(token="secr_tok_x", api_url=url_of(server) + "/secr/") as c:
        c.pull_secrets("my org", "p", "dev", limit=5, offset=0, search="A B")
        assert server.requests[0][1] == "/secr/v1/secrets/my%20org/p/dev?limit=5&offset=0&search=A+B"


def test_importing_secr_loads_nothing_beyond_httpx_and_the_standard_library() -> None:
    code = (
        "import sys, httpx; before = set(sys.modules); import secr; "
        "print(' '.join(sorted(m for m in set(sys.modules) - before if m != 'secr' and not m.startswith('secr.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    # Everything secr needs, httpx has imported already.
    assert out == []


def test_the_package_version_is_the_pyproject_version() -> None:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match and match.group(1) == secr.__version__


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_every_module_parses_as_python_3_9(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path), feature_version=(3, 9))
    # `X | Y` in an annotation is fine on 3.9 only under postponed evaluation.
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names) for n in tree.body)
    assert future or path.name in ("__init__.py", "_version.py"), f"{path.name}: add `from __future__ import annotations`"


def test_py_typed_ships_with_the_package() -> None:
    assert (ROOT / "src" / "secr" / "py.typed").exists()
