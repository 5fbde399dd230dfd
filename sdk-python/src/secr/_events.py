"""The change stream (``GET /v1/secrets/:org/:project/:env/events``, Server-Sent Events): parsing its
frames into typed events, and following it across reconnects (``SecrClient.events`` on threads,
``AsyncSecrClient.events`` on asyncio: both loops only move bytes and wait, a ``_Stream`` decides)."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any, AsyncGenerator, Callable, Dict, Generator, Iterator, List, Mapping, Optional

import httpx

from . import _core
from ._core import Config, _secrets_path

#: Answers that trying again will not change: raised, not retried.
_FATAL = (400, 401, 403, 404)


@dataclass(frozen=True)
class KeyChange:
    """One key a change touched: its new version, or ``None`` when it was deleted."""

    key: str
    version: Optional[int]


@dataclass(frozen=True)
class ChangeEvent:
    """An event of an environment's change stream; no event carries a value.

    ``event`` is ``ready`` (the stream starts at ``seq``), ``change`` (a committed change: ``type`` is
    set, import, rollback, promotion, restore or delete; ``changes`` the keys and their new versions),
    ``resync`` (changes were missed that cannot be replayed, ``reason`` says why: pull again) or
    ``closed`` (the server ended the stream for good, ``reason`` says why; the iteration ends).
    ``id``/``seq`` is a position in the environment's change log: the environment's version at that
    point, usable as ``if_environment_version``.
    """

    event: str
    id: Optional[str] = None
    seq: Optional[str] = None
    type: Optional[str] = None
    changes: List[KeyChange] = field(default_factory=list)
    at: Optional[str] = None
    reason: Optional[str] = None


@dataclass
class _Frame:
    event: str = "message"
    data: List[str] = field(default_factory=list)
    id: Optional[str] = None
    retry: Optional[int] = None


def _parse_frame(lines: List[str]) -> _Frame:
    frame = _Frame()
    for line in lines:
        if not line or line.startswith(":"):
            continue  # a heartbeat or other comment
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value
        elif name == "data":
            frame.data.append(value)
        elif name == "retry" and value.isdigit():
            frame.retry = int(value)
    return frame


def _to_event(frame: _Frame) -> Optional[ChangeEvent]:
    if not frame.data:
        return None
    try:
        data: Dict[str, Any] = json.loads("\n".join(frame.data))
    except ValueError:
        return None
    seq = str(data["seq"]) if "seq" in data else None
    if frame.event == "ready":
        return ChangeEvent("ready", id=frame.id, seq=seq)
    if frame.event == "change":
        changes = [KeyChange(str(c["key"]), None if c.get("version") is None else int(c["version"])) for c in data.get("changes", [])]
        return ChangeEvent("change", id=frame.id, seq=seq, type=str(data.get("type")), changes=changes, at=str(data.get("at")))
    if frame.event == "resync":
        return ChangeEvent("resync", id=frame.id, seq=seq, reason=str(data.get("reason")))
    if frame.event == "closed":
        return ChangeEvent("closed", reason=str(data.get("reason")))
    return None  # an event this SDK does not know yet


class _Stream:
    """Following one change stream, whatever moves its bytes: the request to send, the answers that are
    refused or retried, the frames of the text fed in (the last event id, ``retry``, the events to yield,
    when to end) and how long to wait before the next connection."""

    def __init__(
        self,
        config: Config,
        org: str,
        project: str,
        env: str,
        *,
        last_event_id: Optional[str],
        stopped: Callable[[], bool],
        idle_timeout: float,
        reconnect_min: float,
        reconnect_max: float,
    ) -> None:
        self.path = f"{_secrets_path(org, project, env)}/events"
        # Every wait is bounded: connecting and writing by the client's timeout, each read by idle_timeout
        # (the server sends a heartbeat every 15 s by default, so a longer silence is a dead connection).
        self.timeout = httpx.Timeout(config.timeout, read=idle_timeout)
        self.stopped = stopped
        self.finished = False
        self._config = config
        self._last_event_id = last_event_id
        self._min = reconnect_min
        self._max = reconnect_max
        self._delay = reconnect_min
        self._wait = reconnect_min
        self._buffer = ""

    def headers(self) -> httpx.Headers:
        """The headers of the next connection (from where the last one stopped); httpx.Headers, whose
        repr masks the token, rather than a dict: httpx's frames hold them as a local while they send."""
        self._wait = self._delay
        self._buffer = ""
        headers = httpx.Headers({**self._config.headers(), "accept": "text/event-stream"})
        if self._last_event_id is not None:
            headers["last-event-id"] = self._last_event_id
        return headers

    def refused(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """An answer other than 200: raises what trying again will not change, else notes Retry-After."""
        if status in _FATAL or 300 <= status < 400:
            raise _core._api_error(status, body, headers.get("x-request-id"), headers.get("location"))
        retry_after = headers.get("retry-after", "")
        if retry_after.isdigit():
            self._wait = max(self._wait, min(float(retry_after), self._max))

    def connected(self) -> None:
        """The stream is open: the back-off starts again from reconnect_min."""
        self._delay = self._min

    def feed(self, text: str) -> Iterator[ChangeEvent]:
        """The events of the frames that ``text`` completes; sets ``finished`` after ``closed`` or once
        ``stop`` is set (checked after each frame, so after each event the consumer was given)."""
        # Frames end with a blank line; the text is cut here (httpx's iter_lines may hold back the
        # blank line that ends a frame until more arrives).
        self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        while not self.finished and "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            frame = _parse_frame(block.split("\n"))
            if frame.retry is not None:
                self._delay = min(max(frame.retry / 1000, self._min), self._max)
            if frame.id is not None:
                self._last_event_id = frame.id
            event = _to_event(frame)
            if event is not None:
                yield event
                if event.event == "closed":
                    self.finished = True
            if self.stopped():
                self.finished = True

    def ended(self) -> None:
        """The server ended the stream: the next connection after the stream's delay (reconnect_min, or its ``retry``)."""
        self._wait = self._delay

    def next_wait(self) -> float:
        """Seconds to wait before connecting again, and the back-off doubled. After a failure that is the
        delay before it connected (longer if the answer's Retry-After, bounded by reconnect_max, says so)."""
        wait = self._wait
        self._delay = min(max(wait, self._delay) * 2, self._max)
        return wait


def follow(
    config: Config,
    org: str,
    project: str,
    env: str,
    *,
    last_event_id: Optional[str],
    stop: Optional[threading.Event],
    idle_timeout: float,
    reconnect_min: float,
    reconnect_max: float,
) -> Generator[ChangeEvent, None, None]:
    """Yields the stream's events, reconnecting with back-off and Last-Event-ID (see SecrClient.events)."""
    stream = _Stream(
        config, org, project, env, last_event_id=last_event_id, stopped=stop.is_set if stop is not None else (lambda: False),
        idle_timeout=idle_timeout, reconnect_min=reconnect_min, reconnect_max=reconnect_max,
    )
    with httpx.Client(base_url=config.api_url, timeout=stream.timeout, follow_redirects=False) as http:
        while not stream.stopped():
            try:
                with http.stream("GET", stream.path, headers=stream.headers()) as response:
                    if response.status_code != 200:
                        stream.refused(response.status_code, response.headers, response.read())
                    else:
                        stream.connected()
                        for text in response.iter_text():
                            yield from stream.feed(text)
                            if stream.finished:
                                return
                        stream.ended()
            except httpx.HTTPError:
                pass  # a network failure, a dropped or silent connection: reconnect
            if (stop or threading.Event()).wait(stream.next_wait()):
                return


async def afollow(
    config: Config,
    org: str,
    project: str,
    env: str,
    *,
    last_event_id: Optional[str],
    stop: Optional[asyncio.Event],
    idle_timeout: float,
    reconnect_min: float,
    reconnect_max: float,
) -> AsyncGenerator[ChangeEvent, None]:
    """follow() on asyncio (see AsyncSecrClient.events)."""
    stream = _Stream(
        config, org, project, env, last_event_id=last_event_id, stopped=stop.is_set if stop is not None else (lambda: False),
        idle_timeout=idle_timeout, reconnect_min=reconnect_min, reconnect_max=reconnect_max,
    )
    async with httpx.AsyncClient(base_url=config.api_url, timeout=stream.timeout, follow_redirects=False) as http:
        while not stream.stopped():
            try:
                async with http.stream("GET", stream.path, headers=stream.headers()) as response:
                    if response.status_code != 200:
                        stream.refused(response.status_code, response.headers, await response.aread())
                    else:
                        stream.connected()
                        async for text in response.aiter_text():
                            for event in stream.feed(text):
                                yield event
                            if stream.finished:
                                return
                        stream.ended()
            except httpx.HTTPError:
                pass  # a network failure, a dropped or silent connection: reconnect
            if await _wait(stop, stream.next_wait()):
                return


#: How often a wait checks a ``stop`` event of another event loop (see _wait).
_STOP_POLL = 0.05


async def _wait(stop: Optional[asyncio.Event], seconds: float) -> bool:
    """Sleeps ``seconds``, or less when ``stop`` is set meanwhile; whether it is set.

    On Python 3.9 an ``asyncio.Event`` belongs to the event loop current when it was created: one made
    before ``asyncio.run()`` (``asyncio.run(watch(asyncio.Event()))``) belongs to another loop, and
    awaiting its ``wait()`` here fails ("attached to a different loop"). Such an event (on 3.10+, one
    already used by another loop) is checked every _STOP_POLL seconds instead of awaited.
    """
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    loop = asyncio.get_running_loop()
    if getattr(stop, "_loop", None) not in (None, loop):
        deadline = loop.time() + seconds
        while not stop.is_set():
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.sleep(min(_STOP_POLL, left))
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
    return stop.is_set()
