"""AsyncSecrClient: the same methods, on httpx.AsyncClient, against the live server."""

from __future__ import annotations

import asyncio
import inspect
from typing import Callable

import pytest

from conftest import Live
from local_servers import closed_port, silent_server
from secr import _events
from secr import AsyncSecrClient, PaginationInfo, SecrApiError, SecrClient, TemplateValidation


def test_async_client_has_every_method_of_the_sync_client_with_the_same_signature() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        # events() returns a generator (an async one on AsyncSecrClient), not a coroutine: compared below.
        skip = ("close", "aclose", "events")
        return {n: inspect.signature(f) for n, f in vars(cls).items() if callable(f) and not n.startswith("_") and n not in skip}

    sync, asynchronous = public(SecrClient), public(AsyncSecrClient)
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        assert asynchronous[name] == signature, name
        assert inspect.iscoroutinefunction(getattr(AsyncSecrClient, name)), name

    # events(): the same parameters and defaults; stop is an asyncio.Event instead of a threading.Event.
    def parameters(f: Callable[..., object]) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]

    assert parameters(AsyncSecrClient.events) == parameters(SecrClient.events)
    assert inspect.isasyncgenfunction(_events.afollow) and not inspect.iscoroutinefunction(AsyncSecrClient.events)


def test_every_async_method_works_against_the_server(live: Live, project: str) -> None:
    org = live.org

    async def main() -> None:
        async with AsyncSecrClient(token=live.token, api_url=live.api_url) as c:
            assert (await c.set_secret(org, project, "dev", "A", "1")).created is True
            assert (await c.bulk_set_secrets(org, project, "dev", [{"key": "A", "value": "2"}, {"key": "B", "value": "b"}])).total == 2
            pulled = await c.pull_secrets(org, project, "dev", limit=1)
            assert [(s.key, s.value, s.version) for s in pulled.secrets] == [("A", "2", 2)]
            assert pulled.pagination == PaginationInfo(limit=1, offset=0, total=2)
            assert [k.key for k in (await c.list_keys(org, project, "dev", search="B")).keys] == ["B"]
            assert [v.version for v in (await c.secret_history(org, project, "dev", "A")).versions] == [2, 1]
            assert (await c.rollback_secret(org, project, "dev", "A", 1)).restored_from == 1
            promoted = await c.promote_secrets(org, project, from_env="dev", to_env="staging", keys=["A"])
            assert (promoted.promoted, promoted.created) == (1, 1)
            await c.add_template(org, project, "A")
            assert [t.key for t in await c.list_templates(org, project)] == ["A"]
            assert await c.validate_template(org, project, "staging") == TemplateValidation(valid=True, missing=[], extra=[])
            await c.remove_template(org, project, "A")
            assert (await c.delete_secret(org, project, "dev", "B")).deleted is True
            assert (await c.bulk_delete_secrets(org, project, "staging", ["A"])).deleted == 1
            # Concurrent calls on one client.
            results = await asyncio.gather(*(c.pull_secrets(org, project, "dev") for _ in range(5)))
            assert all([s.value for s in r.secrets] == ["1"] for r in results)

    asyncio.run(main())


def test_async_errors_are_secr_api_errors(live: Live, project: str) -> None:
    async def main() -> None:
        async with AsyncSecrClient(token=live.token, api_url=live.api_url) as c:
            with pytest.raises(SecrApiError) as e:
                await c.pull_secrets(live.org, project, "qa")
            assert (e.value.status_code, e.value.code) == (404, "not_found")
        async with AsyncSecrClient(token="secr_tok_x", api_url=closed_port()) as down:
            with pytest.raises(SecrApiError) as e:
                await down.list_keys("o", "p", "dev")
            assert (e.value.status_code, e.value.code) == (0, "network_error")
        with silent_server() as url:
            async with AsyncSecrClient(token="secr_tok_x", api_url=url, timeout=0.5) as slow:
                with pytest.raises(SecrApiError) as e:
                    await slow.pull_secrets("o", "p", "dev")
                assert (e.value.status_code, e.value.code) == (0, "timeout")

    asyncio.run(main())
