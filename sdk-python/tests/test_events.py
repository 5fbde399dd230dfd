"""SecrClient.events(): the change stream, against the live server (through a relay that can cut it)."""

from __future__ import annotations

import socket
import threading
from typing import Iterator, List, Set
from urllib.parse import urlsplit

import pytest

from conftest import Live
from secr import ChangeEvent, KeyChange, SecrApiError, SecrClient


class Relay:
    """A TCP relay to the server whose connections can all be cut at once, as a proxy restart would."""

    def __init__(self, api_url: str) -> None:
        parts = urlsplit(api_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.sockets: Set[socket.socket] = set()
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.server.accept()
            except OSError:
                return
            outbound = socket.create_connection(self.target, timeout=10)
            outbound.settimeout(None)
            with self.lock:
                self.connections += 1
                self.sockets.update((inbound, outbound))
            threading.Thread(target=self._pipe, args=(inbound, outbound), daemon=True).start()
            threading.Thread(target=self._pipe, args=(outbound, inbound), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def close(self) -> None:
        self.server.close()
        self.cut()


@pytest.fixture
def relay(live: Live) -> Iterator[Relay]:
    r = Relay(live.api_url)
    yield r
    r.close()


def take(events: Iterator[ChangeEvent], n: int) -> List[ChangeEvent]:
    return [next(events) for _ in range(n)]


def test_events_are_typed_reconnect_with_last_event_id_and_miss_nothing(client: SecrClient, live: Live, project: str, relay: Relay) -> None:
    watcher = SecrClient(token=live.read_token, api_url=relay.url, timeout=10)
    stop = threading.Event()
    events = watcher.events(live.org, project, "development", stop=stop, idle_timeout=10, reconnect_min=0.05, reconnect_max=0.2)
    try:
        (ready,) = take(events, 1)
        assert ready == ChangeEvent("ready", id="0", seq="0")

        client.set_secret(live.org, project, "development", "FIRST", "never-in-an-event")
        (first,) = take(events, 1)
        assert (first.event, first.type, first.changes, first.id) == ("change", "set", [KeyChange("FIRST", 1)], first.seq)
        assert "never-in-an-event" not in repr(first)

        # The connection is cut, and two changes are made before the client is back: both arrive, in order, once.
        relay.cut()
        client.set_secret(live.org, project, "development", "SECOND", "v")
        client.delete_secret(live.org, project, "development", "FIRST")
        second, third = take(events, 2)
        assert [(e.event, e.changes) for e in (second, third)] == [
            ("change", [KeyChange("SECOND", 1)]),
            ("change", [KeyChange("FIRST", None)]),
        ]
        assert int(third.seq or 0) > int(second.seq or 0) > int(first.seq or 0)
        assert relay.connections >= 2
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
