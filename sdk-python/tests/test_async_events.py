"""AsyncSecrClient.events(): the change stream on asyncio, against the live server (through a relay that
can cut it) and a local server for the answers a live one does not give on demand (429, 503)."""

from __future__ import annotations

import asyncio
import gc
import time
from http.server import BaseHTTPRequestHandler
from typing import AsyncIterator, Awaitable, Callable, List, TypeVar

import pytest

from conftest import Live
from local_servers import Relay, http_server, send_json, url_of
from secr import AsyncSecrClient, ChangeEvent, SecrApiError, SecrClient
from test_events import miss_nothing_across_a_cut

T = TypeVar("T")

#: The longest any one step of these tests may wait: a hang fails the test instead of the suite.
BOUND = 20.0


async def bounded(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, BOUND)


async def take(events: AsyncIterator[ChangeEvent], n: int) -> List[ChangeEvent]:
    # `anext` is Python 3.10+.
    return [await bounded(events.__anext__()) for _ in range(n)]


async def until(condition: Callable[[], bool], what: str, collect: bool = False) -> None:
    """Polls `condition` every 10 ms, for BOUND seconds at most (`collect`: running the garbage collector each time)."""
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {BOUND} s")
        if collect:
            gc.collect()
        await asyncio.sleep(0.01)


def test_async_events_receive_changes_and_resume_after_a_cut_without_missing_one(
    client: SecrClient, live: Live, project: str, relay: Relay
) -> None:
    # The sync test's scenario; the loop runs while the next events are awaited (the changes are made meanwhile).
    loop = asyncio.new_event_loop()
    watcher = AsyncSecrClient(token=live.read_token, api_url=relay.url, timeout=10)
    events = watcher.events(live.org, project, "development", idle_timeout=10, reconnect_min=0.05, reconnect_max=0.2)
    try:
        miss_nothing_across_a_cut(client, live, project, relay, lambda n: loop.run_until_complete(take(events, n)))
    finally:
        loop.run_until_complete(events.aclose())
        loop.run_until_complete(watcher.aclose())
        loop.close()


def test_async_events_raise_secr_api_error_on_a_bad_token_or_an_unknown_environment(live: Live, project: str) -> None:
    async def main() -> None:
        async with AsyncSecrClient(token="secr_tok_not-a-token", api_url=live.api_url, timeout=10) as stranger:
            with pytest.raises(SecrApiError) as bad:
                await take(stranger.events(live.org, project, "development"), 1)
            assert (bad.value.status_code, bad.value.code) == (401, "unauthorized")
        async with AsyncSecrClient(token=live.read_token, api_url=live.api_url, timeout=10) as reader:
            with pytest.raises(SecrApiError) as missing:
                await take(reader.events(live.org, project, "no-such-env"), 1)
            assert (missing.value.status_code, missing.value.code) == (404, "not_found")

    asyncio.run(main())


def test_async_events_end_when_stop_is_set_after_an_event(client: SecrClient, live: Live, project: str) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        seen: List[ChangeEvent] = []

        async def watch() -> None:
            async with AsyncSecrClient(token=live.read_token, api_url=live.api_url, timeout=10) as watcher:
                async for event in watcher.events(live.org, project, "development", stop=stop):
                    seen.append(event)
                    # A change is on its way when stop is set: it is not yielded, the iteration ends.
                    client.set_secret(live.org, project, "development", "AFTER_STOP", "x")
                    stop.set()

        await bounded(watch())
        assert [e.event for e in seen] == ["ready"]

    asyncio.run(main())


def test_async_events_end_when_stop_is_set_while_waiting_to_reconnect() -> None:
    def unavailable(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 503, {"statusCode": 503, "message": "down for maintenance"}, {"retry-after": "120"})

    async def main() -> None:
        with http_server(unavailable) as server:
            stop = asyncio.Event()

            async def watch() -> List[ChangeEvent]:
                async with AsyncSecrClient(token="secr_tok_x", api_url=url_of(server), timeout=10) as watcher:
                    # After the 503 it waits 120 s (Retry-After, within reconnect_max) unless stopped.
                    return [e async for e in watcher.events("o", "p", "dev", stop=stop, reconnect_min=60, reconnect_max=300)]

            task = asyncio.ensure_future(watch())
            await until(lambda: len(server.requests) == 1, "asked once")
            started = time.monotonic()
            stop.set()
            assert await bounded(task) == []
            assert time.monotonic() - started < 10
            assert len(server.requests) == 1

    asyncio.run(main())


def test_async_events_end_when_a_stop_event_of_another_loop_is_set_while_waiting_to_reconnect() -> None:
    # Python 3.9 binds an asyncio.Event to the loop current when it is made (one made before asyncio.run()
    # belongs to another loop); 3.10+ binds it to the first loop that waits on it. Either way its wait()
    # fails in this loop ("attached to" / "bound to a different event loop"): the stream must still stop.
    other = asyncio.new_event_loop()

    async def made_and_waited_on_there() -> asyncio.Event:
        event = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), 0.001)
        except asyncio.TimeoutError:
            pass
        return event

    try:
        stop = other.run_until_complete(made_and_waited_on_there())
    finally:
        other.close()

    def unavailable(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 503, {"statusCode": 503, "message": "down for maintenance"}, {"retry-after": "120"})

    async def main() -> None:
        with http_server(unavailable) as server:

            async def watch() -> List[ChangeEvent]:
                async with AsyncSecrClient(token="secr_tok_x", api_url=url_of(server), timeout=10) as watcher:
                    # After the 503 it waits 120 s (Retry-After, within reconnect_max) unless stopped.
                    return [e async for e in watcher.events("o", "p", "dev", stop=stop, reconnect_min=60, reconnect_max=300)]

            task = asyncio.ensure_future(watch())
            await until(lambda: len(server.requests) == 1, "asked once")
            stop.set()
            assert await bounded(task) == []
            assert len(server.requests) == 1

    asyncio.run(main())


def test_async_events_retry_a_429_within_reconnect_max_resume_with_last_event_id_and_end_after_closed() -> None:
    def stream(h: BaseHTTPRequestHandler) -> None:
        asked = len(server.requests)
        if asked == 1:
            # A Retry-After of an hour: reconnect_max (0.2 s) bounds it.
            send_json(h, 429, {"statusCode": 429, "message": "slow down"}, {"retry-after": "3600"})
            return
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.end_headers()
        h.close_connection = True  # the stream ends here: the client reconnects
        if asked == 2:
            h.wfile.write(b': hello\n\nretry: 10\nid: 7\nevent: ready\ndata: {"seq":7}\n\n')
        else:
            h.wfile.write(b'event: closed\ndata: {"reason":"environment_deleted"}\n\n')

    async def main() -> List[ChangeEvent]:
        async with AsyncSecrClient(token="secr_tok_x", api_url=url_of(server), timeout=10) as watcher:
            return [e async for e in watcher.events("o", "p", "dev", reconnect_min=0.01, reconnect_max=0.2)]

    with http_server(stream) as server:
        started = time.monotonic()
        events = asyncio.run(bounded(main()))
        assert time.monotonic() - started < 10
        assert events == [ChangeEvent("ready", id="7", seq="7"), ChangeEvent("closed", reason="environment_deleted")]
        assert [(path, headers.get("accept"), headers.get("last-event-id")) for _, path, headers in server.requests] == [
            ("/v1/secrets/o/p/dev/events", "text/event-stream", None),
            ("/v1/secrets/o/p/dev/events", "text/event-stream", None),
            ("/v1/secrets/o/p/dev/events", "text/event-stream", "7"),
        ]
        assert server.requests[2][2].get("authorization") == "Bearer secr_tok_x"


def test_async_events_close_their_connection_on_break_and_on_aclose(live: Live, project: str, relay: Relay) -> None:
    async def main() -> None:
        async with AsyncSecrClient(token=live.read_token, api_url=relay.url, timeout=10) as watcher:
            async for event in watcher.events(live.org, project, "development"):
                assert event.event == "ready"
                break
            # The generator left behind is closed by asyncio's finalizer, and with it the connection: at once
            # when the loop dropped the last reference, else once the garbage collector finds it (once in a
            # dozen runs of the whole suite it was kept past 20 s; that timing is Python's, not the SDK's).
            await until(lambda: (relay.connections, relay.closed) == (1, 1), "closed after break", collect=True)

            events = watcher.events(live.org, project, "development")
            assert [e.event for e in await take(events, 1)] == ["ready"]
            assert (relay.connections, relay.closed) == (2, 1)
            await events.aclose()
            await until(lambda: relay.closed == 2, "closed after aclose()")

    asyncio.run(main())
