from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from types import TracebackType
from typing import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator, List, Mapping, Optional, Sequence, Type, TypeVar, Union

import httpx

from . import _core, _events
from ._core import DEFAULT_TIMEOUT, Call, Config
from ._events import ChangeEvent
from ._types import (
    AuditPage,
    AuditVerification,
    BulkDeleteResult,
    BulkSetSecretsResult,
    DeleteSecretResult,
    EnvironmentDiff,
    ListKeysResult,
    PromoteResult,
    PullSecretsResult,
    RestoreResult,
    RollbackResult,
    SecretHistory,
    SetSecretResult,
    Template,
    TemplateValidation,
)

T = TypeVar("T")
_Self = TypeVar("_Self", bound="SecrClient")
_AsyncSelf = TypeVar("_AsyncSelf", bound="AsyncSecrClient")


class _DeadlinePassed(Exception):
    pass


def _read(chunks: Iterator[bytes], deadline: float) -> bytes:
    # httpx bounds each wait (connect, write, every read) by the timeout; this bounds a body that
    # keeps trickling in: once the deadline has passed, what is still arriving is abandoned.
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if time.monotonic() > deadline:
            raise _DeadlinePassed
    return bytes(body)


async def _aread(chunks: AsyncIterator[bytes], deadline: float) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if time.monotonic() > deadline:
            raise _DeadlinePassed
    return bytes(body)


class SecrClient:
    """Synchronous client of the secr API.

    ``token`` defaults to ``$SECR_TOKEN``, ``api_url`` to ``$SECR_API_URL``, else
    ``https://api.secr.dev``; ``timeout`` (seconds, default 30) bounds every wait for the server.
    Every method raises :class:`SecrApiError` on failure. Calls reuse one connection; close the
    client with :meth:`close` or a ``with`` block.

    Redirects are not followed (they would carry the token, and a write's values, elsewhere): a 3xx
    raises :class:`SecrApiError` naming where it pointed. An ``http://`` ``api_url`` of another host
    than this machine warns (:class:`InsecureApiUrlWarning`). Neither the client's ``repr`` nor its
    configuration's shows the token, so tracebacks that print locals do not either.
    """

    def __init__(self, token: Optional[str] = None, api_url: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._config = _core.resolve_config(token, api_url, timeout)
        # A redirect would carry the bearer token elsewhere: such an answer is an error instead.
        self._http = httpx.Client(
            base_url=self._config.api_url, headers=self._config.headers(), timeout=self._config.timeout, follow_redirects=False
        )

    @property
    def api_url(self) -> str:
        return self._config.api_url

    @property
    def timeout(self) -> float:
        return self._config.timeout

    def __repr__(self) -> str:
        return f"SecrClient(api_url={self.api_url!r}, timeout={self.timeout!r})"

    def close(self) -> None:
        """Closes the connections. Safe to call twice."""
        self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def _send(self, call: Call[T]) -> T:
        if self._http.is_closed:
            raise RuntimeError("This SecrClient is closed")
        config = self._config
        deadline = time.monotonic() + config.timeout
        try:
            request = self._http.build_request(call.method, call.path, params=call.params, json=call.body)
            response = self._http.send(request, stream=True)
            try:
                body = _read(response.iter_bytes(), deadline)
            finally:
                response.close()
        except (httpx.TimeoutException, _DeadlinePassed) as exc:
            raise _core.timeout_error(config) from exc
        except httpx.RequestError as exc:
            raise _core.network_error(config, exc) from exc
        return _core.finish(call, response.status_code, response.headers, body)

    def events(
        self,
        org: str,
        project: str,
        env: str,
        *,
        last_event_id: Optional[str] = None,
        stop: Optional[threading.Event] = None,
        idle_timeout: float = 60.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
    ) -> Generator[ChangeEvent, None, None]:
        """The environment's committed changes as they happen (key names and versions, never values).

        ``for event in client.events("my-org", "my-project", "production"): ...`` reconnects by itself
        (after a dropped connection, ``idle_timeout`` seconds of silence, a 429 or a 5xx) with back-off
        from ``reconnect_min`` to ``reconnect_max`` seconds and ``Last-Event-ID``, so no change is missed
        (a ``resync`` event says to pull again). Raises :class:`SecrApiError` on 400/401/403/404. Ends
        after a ``closed`` event, when ``stop`` is set (checked after each event and while waiting to
        reconnect), or when the generator is closed (``break`` out of the loop closes the connection).
        """
        return _events.follow(
            self._config,
            org,
            project,
            env,
            last_event_id=last_event_id,
            stop=stop,
            idle_timeout=idle_timeout,
            reconnect_min=reconnect_min,
            reconnect_max=reconnect_max,
        )

    # --- the SDK reference's methods -------------------------------------------------------------

    def pull_secrets(
        self,
        org: str,
        project: str,
        env: str,
        *,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        search: Optional[str] = None,
        raw: bool = False,
    ) -> PullSecretsResult:
        """Decrypted secrets of an environment (``search``: case-sensitive key prefix; ``pagination`` only with ``limit``).

        References (``${KEY}``, ``${env.KEY}``) are resolved by the server; ``raw=True`` returns the stored text.
        """
        return self._send(_core.pull_secrets(org, project, env, limit, offset, search, raw))

    def list_keys(
        self, org: str, project: str, env: str, *, limit: Optional[int] = None, offset: Optional[int] = None, search: Optional[str] = None
    ) -> ListKeysResult:
        """Key names and versions of an environment, without values."""
        return self._send(_core.list_keys(org, project, env, limit, offset, search))

    def set_secret(self, org: str, project: str, env: str, key: str, value: str, *, description: Optional[str] = None) -> SetSecretResult:
        """Creates or updates one secret (a new version). ``description`` omitted keeps the current one."""
        return self._send(_core.set_secret(org, project, env, key, value, description))

    def bulk_set_secrets(self, org: str, project: str, env: str, secrets: Iterable[Mapping[str, str]]) -> BulkSetSecretsResult:
        """Sets several secrets at once, all or nothing: ``[{"key": "A", "value": "1"}, ...]``."""
        return self._send(_core.bulk_set_secrets(org, project, env, secrets))

    def delete_secret(self, org: str, project: str, env: str, key: str) -> DeleteSecretResult:
        """Soft-deletes a secret (its history stays)."""
        return self._send(_core.delete_secret(org, project, env, key))

    def promote_secrets(
        self,
        org: str,
        project: str,
        *,
        from_env: str,
        to_env: str,
        keys: Optional[Sequence[str]] = None,
        overwrite: bool = False,
        dry_run: bool = False,
    ) -> PromoteResult:
        """Copies secrets (all, or ``keys``) from one environment to another, all or nothing."""
        return self._send(_core.promote_secrets(org, project, from_env, to_env, keys, overwrite, dry_run))

    def diff_environments(
        self, org: str, project: str, *, from_env: str, to_env: str, keys: Optional[Sequence[str]] = None, show_values: bool = False
    ) -> EnvironmentDiff:
        """Compares two environments on the server: keys only in one, changed, identical; values only with ``show_values``."""
        return self._send(_core.diff_environments(org, project, from_env, to_env, keys, show_values))

    def restore_environment(
        self, org: str, project: str, env: str, *, to: Union[datetime, str], keys: Optional[Sequence[str]] = None, dry_run: bool = False
    ) -> RestoreResult:
        """Restores an environment (or ``keys``) to how it was at ``to``, all or nothing; ``dry_run`` answers the plan only."""
        return self._send(_core.restore_environment(org, project, env, to, keys, dry_run))

    def list_templates(self, org: str, project: str) -> List[Template]:
        """The project's secret template: the keys each environment should have."""
        return self._send(_core.list_templates(org, project))

    def validate_template(self, org: str, project: str, env: str) -> TemplateValidation:
        """Whether an environment has every required key of the template."""
        return self._send(_core.validate_template(org, project, env))

    # --- the rest of the secrets and templates API -----------------------------------------------

    def secret_history(self, org: str, project: str, env: str, key: str) -> SecretHistory:
        """Every version of a secret, newest first, with values."""
        return self._send(_core.secret_history(org, project, env, key))

    def rollback_secret(self, org: str, project: str, env: str, key: str, version: int) -> RollbackResult:
        """Writes the value of an earlier ``version`` as the new current version."""
        return self._send(_core.rollback_secret(org, project, env, key, version))

    def bulk_delete_secrets(self, org: str, project: str, env: str, keys: Iterable[str]) -> BulkDeleteResult:
        """Soft-deletes several secrets at once, all or nothing (owner/admin)."""
        return self._send(_core.bulk_delete_secrets(org, project, env, keys))

    def add_template(self, org: str, project: str, key: str, *, description: Optional[str] = None, required: bool = True) -> Template:
        """Adds a key to the project's template (owner/admin)."""
        return self._send(_core.add_template(org, project, key, description, required))

    def remove_template(self, org: str, project: str, key: str) -> None:
        """Removes a key from the project's template (owner/admin)."""
        return self._send(_core.remove_template(org, project, key))

    # --- the audit log ---------------------------------------------------------------------------

    def query_audit(
        self,
        org_id: str,
        *,
        limit: Optional[int] = None,
        before: Optional[str] = None,
        after: Optional[str] = None,
        offset: Optional[int] = None,
        action: Optional[str] = None,
        actor: Optional[str] = None,
        project_id: Optional[str] = None,
        environment_id: Optional[str] = None,
        key: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
    ) -> AuditPage:
        """A page of the org's audit log, newest first (owner/admin): by cursor (``before``/``after``, from
        ``page.cursors``), or by ``offset`` with ``pagination``; filters by action, actor (user id), project and
        environment ids, key, and time (``since`` inclusive, ``until`` exclusive)."""
        call = _core.query_audit(
            org_id,
            {"limit": limit, "before": before, "after": after, "offset": offset, "action": action, "actor": actor,
             "projectId": project_id, "environmentId": environment_id, "key": key, "from": since, "to": until},
        )
        return self._send(call)

    def verify_audit(self, org_id: str, *, since: Optional[datetime] = None, until: Optional[datetime] = None) -> AuditVerification:
        """Checks the org's audit hash chain and signed checkpoints (owner/admin); ``valid`` is False and
        ``first_problem`` names the first row changed, removed or reordered when it was tampered with."""
        return self._send(_core.verify_audit(org_id, since, until))


class AsyncSecrClient:
    """The :class:`SecrClient` API on ``httpx.AsyncClient``: the same methods, to be awaited.

    Close it with ``await client.aclose()`` or ``async with``.
    """

    def __init__(self, token: Optional[str] = None, api_url: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._config = _core.resolve_config(token, api_url, timeout)
        # A redirect would carry the bearer token elsewhere: such an answer is an error instead.
        self._http = httpx.AsyncClient(
            base_url=self._config.api_url, headers=self._config.headers(), timeout=self._config.timeout, follow_redirects=False
        )

    @property
    def api_url(self) -> str:
        return self._config.api_url

    @property
    def timeout(self) -> float:
        return self._config.timeout

    def __repr__(self) -> str:
        return f"AsyncSecrClient(api_url={self.api_url!r}, timeout={self.timeout!r})"

    async def aclose(self) -> None:
        """Closes the connections. Safe to call twice."""
        await self._http.aclose()

    async def __aenter__(self: _AsyncSelf) -> _AsyncSelf:
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()

    async def _send(self, call: Call[T]) -> T:
        if self._http.is_closed:
            raise RuntimeError("This AsyncSecrClient is closed")
        config = self._config
        deadline = time.monotonic() + config.timeout
        try:
            request = self._http.build_request(call.method, call.path, params=call.params, json=call.body)
            response = await self._http.send(request, stream=True)
            try:
                body = await _aread(response.aiter_bytes(), deadline)
            finally:
                await response.aclose()
        except (httpx.TimeoutException, _DeadlinePassed) as exc:
            raise _core.timeout_error(config) from exc
        except httpx.RequestError as exc:
            raise _core.network_error(config, exc) from exc
        return _core.finish(call, response.status_code, response.headers, body)

    def events(
        self,
        org: str,
        project: str,
        env: str,
        *,
        last_event_id: Optional[str] = None,
        stop: Optional[asyncio.Event] = None,
        idle_timeout: float = 60.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
    ) -> AsyncGenerator[ChangeEvent, None]:
        """:meth:`SecrClient.events` on asyncio: ``async for event in client.events(...)``, with ``stop`` an
        ``asyncio.Event``. Leaving the loop (``break``) closes the connection when the generator is collected;
        ``await events.aclose()`` closes it at once. The stream has its own connection: closing the client
        does not end it.
        """
        return _events.afollow(
            self._config,
            org,
            project,
            env,
            last_event_id=last_event_id,
            stop=stop,
            idle_timeout=idle_timeout,
            reconnect_min=reconnect_min,
            reconnect_max=reconnect_max,
        )

    async def pull_secrets(
        self,
        org: str,
        project: str,
        env: str,
        *,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        search: Optional[str] = None,
        raw: bool = False,
    ) -> PullSecretsResult:
        return await self._send(_core.pull_secrets(org, project, env, limit, offset, search, raw))

    async def list_keys(
        self, org: str, project: str, env: str, *, limit: Optional[int] = None, offset: Optional[int] = None, search: Optional[str] = None
    ) -> ListKeysResult:
        return await self._send(_core.list_keys(org, project, env, limit, offset, search))

    async def set_secret(self, org: str, project: str, env: str, key: str, value: str, *, description: Optional[str] = None) -> SetSecretResult:
        return await self._send(_core.set_secret(org, project, env, key, value, description))

    async def bulk_set_secrets(self, org: str, project: str, env: str, secrets: Iterable[Mapping[str, str]]) -> BulkSetSecretsResult:
        return await self._send(_core.bulk_set_secrets(org, project, env, secrets))

    async def delete_secret(self, org: str, project: str, env: str, key: str) -> DeleteSecretResult:
        return await self._send(_core.delete_secret(org, project, env, key))

    async def promote_secrets(
        self,
        org: str,
        project: str,
        *,
        from_env: str,
        to_env: str,
        keys: Optional[Sequence[str]] = None,
        overwrite: bool = False,
        dry_run: bool = False,
    ) -> PromoteResult:
        return await self._send(_core.promote_secrets(org, project, from_env, to_env, keys, overwrite, dry_run))

    async def diff_environments(
        self, org: str, project: str, *, from_env: str, to_env: str, keys: Optional[Sequence[str]] = None, show_values: bool = False
    ) -> EnvironmentDiff:
        return await self._send(_core.diff_environments(org, project, from_env, to_env, keys, show_values))

    async def restore_environment(
        self, org: str, project: str, env: str, *, to: Union[datetime, str], keys: Optional[Sequence[str]] = None, dry_run: bool = False
    ) -> RestoreResult:
        return await self._send(_core.restore_environment(org, project, env, to, keys, dry_run))

    async def list_templates(self, org: str, project: str) -> List[Template]:
        return await self._send(_core.list_templates(org, project))

    async def validate_template(self, org: str, project: str, env: str) -> TemplateValidation:
        return await self._send(_core.validate_template(org, project, env))

    async def secret_history(self, org: str, project: str, env: str, key: str) -> SecretHistory:
        return await self._send(_core.secret_history(org, project, env, key))

    async def rollback_secret(self, org: str, project: str, env: str, key: str, version: int) -> RollbackResult:
        return await self._send(_core.rollback_secret(org, project, env, key, version))

    async def bulk_delete_secrets(self, org: str, project: str, env: str, keys: Iterable[str]) -> BulkDeleteResult:
        return await self._send(_core.bulk_delete_secrets(org, project, env, keys))

    async def add_template(self, org: str, project: str, key: str, *, description: Optional[str] = None, required: bool = True) -> Template:
        return await self._send(_core.add_template(org, project, key, description, required))

    async def remove_template(self, org: str, project: str, key: str) -> None:
        return await self._send(_core.remove_template(org, project, key))

    # --- the audit log ---------------------------------------------------------------------------

    async def query_audit(
        self,
        org_id: str,
        *,
        limit: Optional[int] = None,
        before: Optional[str] = None,
        after: Optional[str] = None,
        offset: Optional[int] = None,
        action: Optional[str] = None,
        actor: Optional[str] = None,
        project_id: Optional[str] = None,
        environment_id: Optional[str] = None,
        key: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
    ) -> AuditPage:
        """A page of the org's audit log, newest first (owner/admin): by cursor (``before``/``after``, from
        ``page.cursors``), or by ``offset`` with ``pagination``; filters by action, actor (user id), project and
        environment ids, key, and time (``since`` inclusive, ``until`` exclusive)."""
        call = _core.query_audit(
            org_id,
            {"limit": limit, "before": before, "after": after, "offset": offset, "action": action, "actor": actor,
             "projectId": project_id, "environmentId": environment_id, "key": key, "from": since, "to": until},
        )
        return await self._send(call)

    async def verify_audit(self, org_id: str, *, since: Optional[datetime] = None, until: Optional[datetime] = None) -> AuditVerification:
        """Checks the org's audit hash chain and signed checkpoints (owner/admin); ``valid`` is False and
        ``first_problem`` names the first row changed, removed or reordered when it was tampered with."""
        return await self._send(_core.verify_audit(org_id, since, until))
