"""The change stream (``GET /v1/secrets/:org/:project/:env/events``, Server-Sent Events): parsing its
frames into typed events, and following it across reconnects (``SecrClient.events``)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Generator, List, Optional

import httpx

from . import _core
from ._core import Config, _secrets_path
from ._errors import SecrApiError

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
    path = f"{_secrets_path(org, project, env)}/events"
    # Every wait is bounded: connecting and writing by the client's timeout, each read by idle_timeout
    # (the server sends a heartbeat every 15 s by default, so a longer silence is a dead connection).
    timeout = httpx.Timeout(config.timeout, read=idle_timeout)
    delay = reconnect_min
    stopped = stop.is_set if stop is not None else (lambda: False)
    with httpx.Client(base_url=config.api_url, timeout=timeout, follow_redirects=False) as http:
        while not stopped():
            headers = {**config.headers(), "accept": "text/event-stream"}
            if last_event_id is not None:
                headers["last-event-id"] = last_event_id
            wait = delay
            try:
                with http.stream("GET", path, headers=headers) as response:
                    if response.status_code != 200:
                        body = response.read()
                        if response.status_code in _FATAL:
                            raise _core._api_error(response.status_code, body, response.headers.get("x-request-id"))
                        retry_after = response.headers.get("retry-after", "")
                        if retry_after.isdigit():
                            wait = max(wait, min(float(retry_after), reconnect_max))
                    else:
                        delay = reconnect_min
                        buffer = ""
                        # Frames end with a blank line; the text is cut here (httpx's iter_lines may hold
                        # back the blank line that ends a frame until more arrives).
                        for text in response.iter_text():
                            buffer += text.replace("\r\n", "\n").replace("\r", "\n")
                            while "\n\n" in buffer:
                                block, buffer = buffer.split("\n\n", 1)
                                frame = _parse_frame(block.split("\n"))
                                if frame.retry is not None:
                                    delay = min(max(frame.retry / 1000, reconnect_min), reconnect_max)
                                if frame.id is not None:
                                    last_event_id = frame.id
                                event = _to_event(frame)
                                if event is not None:
                                    yield event
                                    if event.event == "closed":
                                        return
                                if stopped():
                                    return
                        wait = delay
            except SecrApiError:
                raise
            except httpx.HTTPError:
                pass  # a network failure, a dropped or silent connection: reconnect
            if stop is not None:
                if stop.wait(wait):
                    return
            else:
                threading.Event().wait(wait)
            delay = min(max(wait, delay) * 2, reconnect_max)
