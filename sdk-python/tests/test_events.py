"""SecrClient.events(): the change stream, against the live server (through a relay that can cut it)."""

from __future__ import annotations

import threading
from typing import Callable, Iterator, List

import pytest

from conftest import Live
from local_servers import Relay
from secr import ChangeEvent, KeyChange, SecrApiError, SecrClient


def take(events: Iterator[ChangeEvent], n: int) -> List[ChangeEvent]:
    return [next(events) for _ in range(n)]


def miss_nothing_across_a_cut(client: SecrClient, live: Live, project: str, relay: Relay, take: Callable[[int], List[ChangeEvent]]) -> None:
    """What SecrClient.events and AsyncSecrClient.events both do, watching `project`'s development through
    `relay`: `take(n)` is the next n events."""
    (ready,) = take(1)
    assert ready == ChangeEvent("ready", id="0", seq="0")

    client.set_secret(live.org, project, "development", "FIRST", "never-in-an-event")
    (first,) = take(1)
    assert (first.event, first.type, first.changes, first.id) == ("change", "set", [KeyChange("FIRST", 1)], first.seq)
    assert "never-in-an-event" not in repr(first)

    # The connection is cut, and two changes are made before the client is back: both arrive, in order, once.
    relay.cut()
    client.set_secret(live.org, project, "development", "SECOND", "v")
    client.delete_secret(live.org, project, "development", "FIRST")
    second, third = take(2)
    assert [(e.event, e.changes) for e in (second, third)] == [
        ("change", [KeyChange("SECOND", 1)]),
        ("change", [KeyChange("FIRST", None)]),
    ]
    assert int(third.seq or 0) > int(second.seq or 0) > int(first.seq or 0)
    assert relay.connections >= 2


def test_events_are_typed_reconnect_with_last_event_id_and_miss_nothing(client: SecrClient, live: Live, project: str, relay: Relay) -> None:
    watcher = SecrClient(token=live.read_token, api_url=relay.url, timeout=10)
    stop = threading.Event()
    events = watcher.events(live.org, project, "development", stop=stop, idle_timeout=10, reconnect_min=0.05, reconnect_max=0.2)
    try:
        miss_nothing_across_a_cut(client, live, project, relay, lambda n: take(events, n))
    finally:
        stop.set()
        events.close()
        watcher.close()


def test_events_resume_after_last_event_id_and_raise_on_refusal(client: SecrClient, live: Live, project: str) -> None:
    client.set_secret(live.org, project, "development", "A", "1")
    client.set_secret(live.org, project, "development", "A", "2")
    replay = client.events(live.org, project, "development", last_event_id="0")
    try:
        first, second = take(replay, 2)
        assert [(e.event, e.changes) for e in (first, second)] == [("change", [KeyChange("A", 1)]), ("change", [KeyChange("A", 2)])]
    finally:
        replay.close()

    unknown = client.events(live.org, project, "development", last_event_id="999999999999")
    try:
        (resync,) = take(unknown, 1)
        assert (resync.event, resync.reason, resync.seq) == ("resync", "unknown_event_id", second.seq)
    finally:
        unknown.close()

    with pytest.raises(SecrApiError) as missing:
        next(client.events(live.org, project, "no-such-env"))
    assert (missing.value.status_code, missing.value.code) == (404, "not_found")
    with pytest.raises(SecrApiError) as bad:
        next(client.events(live.org, project, "development", last_event_id="not-an-id"))
    assert (bad.value.status_code, bad.value.code) == (400, "validation_failed")
