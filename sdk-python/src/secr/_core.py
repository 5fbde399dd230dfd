"""What SecrClient and AsyncSecrClient share: configuration, the request of each operation, and the
one place that turns an HTTP answer into a result or a SecrApiError. The clients only move bytes."""

from __future__ import annotations

import ipaddress
import json
import os
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Generic, Iterable, List, Mapping, Optional, Sequence, TypeVar, Union
from urllib.parse import quote, urlsplit

from ._errors import FieldError, SecrApiError
from ._types import (
    ActorRef,
    AuditCursors,
    AuditEvent,
    AuditPage,
    AuditProblem,
    AuditVerification,
    BulkDeleteResult,
    DiffEntry,
    EnvironmentDiff,
    RestoredKey,
    RestoreResult,
    BulkSetSecretsResult,
    DeleteSecretResult,
    ListKeysResult,
    PaginationInfo,
    PromoteResult,
    PromotedKey,
    PullSecretsResult,
    RollbackResult,
    Secret,
    SecretHistory,
    SecretMeta,
    SecretVersion,
    SetSecretResult,
    Template,
    TemplateValidation,
)
from ._version import __version__

T = TypeVar("T")

DEFAULT_API_URL = "https://api.secr.dev"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"secr-sdk-python/{__version__}"

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class Config:
    # Out of the repr: a Config is a local of every request, and tracebacks that show locals (pytest
    # --showlocals, Sentry, rich) print it.
    token: str = field(repr=False)
    api_url: str
    timeout: float

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the API: what an error message may name (never a path or credentials)."""
        parts = urlsplit(self.api_url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")

    def headers(self) -> Dict[str, str]:
        return {"authorization": f"Bearer {self.token}", "user-agent": USER_AGENT, "accept": "application/json"}


def resolve_config(token: Optional[str], api_url: Optional[str], timeout: float) -> Config:
    """The arguments, else SECR_TOKEN / SECR_API_URL, else the defaults; refuses what cannot work."""
    if token is None:
        token = os.environ.get("SECR_TOKEN") or None
    if not isinstance(token, str) or not token:
        raise ValueError("SecrClient needs a token: pass token='secr_...' or set SECR_TOKEN")
    # Never echo the token: it is the one thing that must not end up in a log.
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ValueError("token must be printable ASCII without spaces (a secr_tok_... or secr_cli_... token)")
    if api_url is None:
        api_url = os.environ.get("SECR_API_URL") or DEFAULT_API_URL
    parts = urlsplit(api_url) if isinstance(api_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("api_url must be an http:// or https:// URL such as https://api.secr.dev")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 or timeout == float("inf"):
        raise ValueError("timeout must be a positive number of seconds")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # stacklevel 3: the line that made the client (resolve_config < __init__ < the caller); Python's default
        # filter then says it once per such line.
        warnings.warn(
            f"api_url {parts.scheme}://{parts.netloc.rpartition('@')[2]} is plain http to another host: the token and every"
            " value cross the network unencrypted; use https://",
            InsecureApiUrlWarning,
            stacklevel=3,
        )
    return Config(token=token, api_url=api_url.rstrip("/"), timeout=float(timeout))


class InsecureApiUrlWarning(UserWarning):
    """The client was given an ``http://`` API URL of a host other than this machine (loopback stays quiet)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request of an operation and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Optional[Dict[str, Union[str, int]]] = None
    body: Optional[Dict[str, Any]] = None


# --- requests ------------------------------------------------------------------------------------


def _segment(name: str, value: str) -> str:
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise ValueError(f"{name} must be a non-empty name")
    return quote(value, safe="")


def _secrets_path(org: str, project: str, env: str) -> str:
    return f"/v1/secrets/{_segment('org', org)}/{_segment('project', project)}/{_segment('env', env)}"


def _templates_path(org: str, project: str) -> str:
    return f"/v1/templates/{_segment('org', org)}/{_segment('project', project)}"


def _page(limit: Optional[int], offset: Optional[int], search: Optional[str]) -> Optional[Dict[str, Union[str, int]]]:
    params: Dict[str, Union[str, int]] = {}
    if limit is not None:
        params["limit"] = limit
    if offset is not None:
        params["offset"] = offset
    if search is not None:
        params["search"] = search
    return params or None


def _strings(name: str, values: Iterable[str]) -> List[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    return list(values)


def pull_secrets(
    org: str, project: str, env: str, limit: Optional[int], offset: Optional[int], search: Optional[str], raw: bool = False
) -> Call[PullSecretsResult]:
    params = _page(limit, offset, search)
    if raw:
        params = {**(params or {}), "raw": "true"}
    return Call("GET", _secrets_path(org, project, env), _pull_result, params=params)


def list_keys(org: str, project: str, env: str, limit: Optional[int], offset: Optional[int], search: Optional[str]) -> Call[ListKeysResult]:
    return Call("GET", f"{_secrets_path(org, project, env)}/keys", _keys_result, params=_page(limit, offset, search))


def set_secret(org: str, project: str, env: str, key: str, value: str, description: Optional[str]) -> Call[SetSecretResult]:
    body: Dict[str, Any] = {"key": key, "value": value}
    if description is not None:
        body["description"] = description
    return Call("PUT", _secrets_path(org, project, env), _set_result, body=body)


def bulk_set_secrets(org: str, project: str, env: str, secrets: Iterable[Mapping[str, str]]) -> Call[BulkSetSecretsResult]:
    if isinstance(secrets, (str, bytes, Mapping)):
        raise TypeError('secrets must be a list of {"key": ..., "value": ...} dicts')
    items: List[Dict[str, str]] = []
    for item in secrets:
        if not isinstance(item, Mapping):
            raise TypeError('secrets must be a list of {"key": ..., "value": ...} dicts')
        items.append(dict(item))
    return Call("POST", f"{_secrets_path(org, project, env)}/bulk", _bulk_set_result, body={"secrets": items})


def delete_secret(org: str, project: str, env: str, key: str) -> Call[DeleteSecretResult]:
    return Call("DELETE", f"{_secrets_path(org, project, env)}/{_segment('key', key)}", _delete_result)


def secret_history(org: str, project: str, env: str, key: str) -> Call[SecretHistory]:
    return Call("GET", f"{_secrets_path(org, project, env)}/versions/{_segment('key', key)}", _history_result)


def rollback_secret(org: str, project: str, env: str, key: str, version: int) -> Call[RollbackResult]:
    return Call("POST", f"{_secrets_path(org, project, env)}/rollback", _rollback_result, body={"key": key, "version": version})


def bulk_delete_secrets(org: str, project: str, env: str, keys: Iterable[str]) -> Call[BulkDeleteResult]:
    body = {"keys": _strings("keys", keys)}
    return Call("POST", f"{_secrets_path(org, project, env)}/bulk-delete", _bulk_delete_result, body=body)


def promote_secrets(
    org: str, project: str, from_env: str, to_env: str, keys: Optional[Sequence[str]], overwrite: bool, dry_run: bool
) -> Call[PromoteResult]:
    body: Dict[str, Any] = {"fromEnv": from_env, "toEnv": to_env, "overwrite": overwrite, "dryRun": dry_run}
    if keys is not None:
        body["keys"] = _strings("keys", keys)
    path = f"/v1/secrets/{_segment('org', org)}/{_segment('project', project)}/promote"
    return Call("POST", path, _promote_result, body=body)


def diff_environments(org: str, project: str, from_env: str, to_env: str, keys: Optional[Sequence[str]], show_values: bool) -> Call[EnvironmentDiff]:
    params: Dict[str, Union[str, int]] = {"from": from_env, "to": to_env}
    if keys is not None:
        params["keys"] = ",".join(_strings("keys", keys))
    if show_values:
        params["showValues"] = "true"
    return Call("GET", f"/v1/secrets/{_segment('org', org)}/{_segment('project', project)}/diff", _diff_result, params=params)


def restore_environment(
    org: str, project: str, env: str, to: Union[datetime, str], keys: Optional[Sequence[str]], dry_run: bool
) -> Call[RestoreResult]:
    if isinstance(to, datetime):
        if to.tzinfo is None:
            raise ValueError("to must be timezone-aware (e.g. datetime.now(timezone.utc))")
        to = to.isoformat()
    body: Dict[str, Any] = {"to": to, "dryRun": dry_run}
    if keys is not None:
        body["keys"] = _strings("keys", keys)
    return Call("POST", f"{_secrets_path(org, project, env)}/restore", _restore_result, body=body)


def list_templates(org: str, project: str) -> Call[List[Template]]:
    return Call("GET", _templates_path(org, project), _templates_result)


def add_template(org: str, project: str, key: str, description: Optional[str], required: bool) -> Call[Template]:
    body: Dict[str, Any] = {"key": key, "required": required}
    if description is not None:
        body["description"] = description
    return Call("POST", _templates_path(org, project), _template, body=body)


def remove_template(org: str, project: str, key: str) -> Call[None]:
    return Call("DELETE", f"{_templates_path(org, project)}/{_segment('key', key)}", _nothing)


def validate_template(org: str, project: str, env: str) -> Call[TemplateValidation]:
    path = f"{_templates_path(org, project)}/validate/{_segment('env', env)}"
    return Call("GET", path, _validation_result)


def _audit_path(org_id: str, *rest: str) -> str:
    return "/".join([f"/v1/audit/{_segment('org_id', org_id)}", *rest])


def query_audit(org_id: str, params: Mapping[str, Union[str, int, datetime, None]]) -> Call[AuditPage]:
    query: Dict[str, Union[str, int]] = {}
    for name, value in params.items():
        if value is None:
            continue
        query[name] = value.isoformat() if isinstance(value, datetime) else value
    return Call("GET", _audit_path(org_id), _audit_page, params=query or None)


def verify_audit(org_id: str, since: Optional[datetime], until: Optional[datetime]) -> Call[AuditVerification]:
    query: Dict[str, Union[str, int]] = {}
    if since is not None:
        query["from"] = since.isoformat()
    if until is not None:
        query["to"] = until.isoformat()
    return Call("GET", _audit_path(org_id, "verify"), _audit_verification, params=query or None)


# --- answers -------------------------------------------------------------------------------------


class _BadAnswer(Exception):
    """The server's 2xx answer is not what the API documents (a proxy, an incompatible server)."""


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _BadAnswer("a timestamp is not a string")
    # Python 3.9's fromisoformat does not read the "Z" the API writes.
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _BadAnswer("a timestamp is not ISO 8601") from None


def _pagination(data: Mapping[str, Any]) -> Optional[PaginationInfo]:
    page = data.get("pagination")
    if page is None:
        return None
    return PaginationInfo(limit=page["limit"], offset=page["offset"], total=page["total"])


def _secret(d: Mapping[str, Any]) -> Secret:
    return Secret(key=d["key"], value=d["value"], version=d["version"], updated_at=_timestamp(d["updatedAt"]), description=d.get("description"))


def _secret_meta(d: Mapping[str, Any]) -> SecretMeta:
    return SecretMeta(key=d["key"], version=d["version"], updated_at=_timestamp(d["updatedAt"]), description=d.get("description"))


def _pull_result(d: Mapping[str, Any]) -> PullSecretsResult:
    return PullSecretsResult(secrets=[_secret(s) for s in d["secrets"]], pagination=_pagination(d))


def _keys_result(d: Mapping[str, Any]) -> ListKeysResult:
    return ListKeysResult(keys=[_secret_meta(k) for k in d["keys"]], pagination=_pagination(d))


def _set_result(d: Mapping[str, Any]) -> SetSecretResult:
    return SetSecretResult(key=d["key"], version=d["version"], created=d["created"])


def _bulk_set_result(d: Mapping[str, Any]) -> BulkSetSecretsResult:
    return BulkSetSecretsResult(created=d["created"], updated=d["updated"], total=d["total"])


def _delete_result(d: Mapping[str, Any]) -> DeleteSecretResult:
    return DeleteSecretResult(deleted=d["deleted"], key=d["key"])


def _history_result(d: Mapping[str, Any]) -> SecretHistory:
    versions = [
        SecretVersion(
            version=v["version"],
            value=v["value"],
            description=v.get("description"),
            source=v["source"],
            created_at=_timestamp(v["createdAt"]),
            created_by=ActorRef(id=v["createdBy"]["id"], email=v["createdBy"]["email"]) if v.get("createdBy") else None,
        )
        for v in d["versions"]
    ]
    return SecretHistory(key=d["key"], deleted=d["deleted"], versions=versions)


def _rollback_result(d: Mapping[str, Any]) -> RollbackResult:
    return RollbackResult(key=d["key"], version=d["version"], restored_from=d["restoredFrom"])


def _bulk_delete_result(d: Mapping[str, Any]) -> BulkDeleteResult:
    return BulkDeleteResult(deleted=d["deleted"], keys=list(d["keys"]))


def _promote_result(d: Mapping[str, Any]) -> PromoteResult:
    return PromoteResult(
        promoted=d["promoted"],
        created=d["created"],
        updated=d["updated"],
        skipped=d["skipped"],
        dry_run=d.get("dryRun", False),
        results=[PromotedKey(key=r["key"], action=r["action"], difference=r.get("difference")) for r in d.get("results", [])],
    )


def _diff_result(d: Mapping[str, Any]) -> EnvironmentDiff:
    counts = d["counts"]
    return EnvironmentDiff(
        from_env=d["from"],
        to_env=d["to"],
        differ=d["differ"],
        only_in_source=counts["onlyInSource"],
        only_in_target=counts["onlyInTarget"],
        changed=counts["changed"],
        identical=counts["identical"],
        keys=[
            DiffEntry(
                key=k["key"],
                status=k["status"],
                source_version=k.get("sourceVersion"),
                target_version=k.get("targetVersion"),
                source_value=k.get("sourceValue"),
                target_value=k.get("targetValue"),
            )
            for k in d["keys"]
        ],
    )


def _restore_result(d: Mapping[str, Any]) -> RestoreResult:
    return RestoreResult(
        to=_timestamp(d["to"]),
        dry_run=d["dryRun"],
        restored=d["restored"],
        revived=d["revived"],
        deleted=d["deleted"],
        unchanged=d["unchanged"],
        results=[RestoredKey(key=r["key"], action=r["action"], from_version=r.get("fromVersion"), version=r.get("version")) for r in d["results"]],
    )


def _template(d: Mapping[str, Any]) -> Template:
    return Template(id=d["id"], key=d["key"], description=d.get("description"), required=d["required"], created_at=_timestamp(d["createdAt"]))


def _templates_result(d: Mapping[str, Any]) -> List[Template]:
    return [_template(t) for t in d["templates"]]


def _validation_result(d: Mapping[str, Any]) -> TemplateValidation:
    return TemplateValidation(valid=d["valid"], missing=list(d["missing"]), extra=list(d["extra"]))


def _audit_event(d: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        id=d["id"],
        created_at=_timestamp(d["createdAt"]),
        action=d["action"],
        actor_user_id=d.get("actorUserId"),
        actor_email=d.get("actorEmail"),
        actor_token_id=d.get("actorTokenId"),
        ip=d.get("ip"),
        user_agent=d.get("userAgent"),
        request_id=d.get("requestId"),
        metadata=dict(d["metadata"]),
    )


def _audit_page(d: Mapping[str, Any]) -> AuditPage:
    cursors = d["cursors"]
    return AuditPage(
        events=[_audit_event(e) for e in d["events"]],
        cursors=AuditCursors(before=cursors.get("before"), after=cursors.get("after")),
        pagination=_pagination(d),
    )


def _audit_verification(d: Mapping[str, Any]) -> AuditVerification:
    p = d.get("firstProblem")
    problem = None if p is None else AuditProblem(problem=p["problem"], seq=p["seq"], event_id=p.get("eventId"), message=p["message"])
    return AuditVerification(
        valid=d["valid"], from_seq=d["fromSeq"], to_seq=d["toSeq"], checked=d["checked"], checkpoints=d["checkpoints"], first_problem=problem
    )


def _nothing(_: Any) -> None:
    return None


def finish(call: Call[T], status: int, headers: Mapping[str, str], body: bytes) -> T:
    """The result of a 2xx answer, else the API's error as a SecrApiError (the one place errors are made)."""
    request_id = headers.get("x-request-id")
    if not 200 <= status < 300:
        raise _api_error(status, body, request_id, headers.get("location"))
    if call.parse is _nothing:
        return call.parse(None)
    try:
        return call.parse(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError, _BadAnswer):
        # Not the message of the parse error: it could quote the answer, which may hold values.
        raise SecrApiError(
            f"Unexpected answer to {call.method} {call.path}: not what the secr API returns (is api_url a secr server?)",
            status,
            "invalid_response",
            request_id=request_id,
        ) from None


def _api_error(status: int, body: bytes, request_id: Optional[str], location: Optional[str] = None) -> SecrApiError:
    if 300 <= status < 400:
        return redirect_error(status, location, request_id)
    code = _CODE_BY_STATUS.get(status, "http_error")
    message = f"HTTP {status}"
    errors: List[FieldError] = []
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None  # e.g. an HTML page of a proxy: not shown, it is not the API's message
    if isinstance(data, dict):
        if isinstance(data.get("message"), str):
            message = data["message"]
        if isinstance(data.get("code"), str):
            code = data["code"]
        if isinstance(data.get("requestId"), str):
            request_id = data["requestId"]
        for e in data.get("errors") or []:
            if isinstance(e, dict) and isinstance(e.get("field"), str) and isinstance(e.get("message"), str):
                errors.append(FieldError(field=e["field"], message=e["message"]))
    return SecrApiError(message, status, code, request_id=request_id, errors=errors)


def redirect_error(status: int, location: Optional[str], request_id: Optional[str]) -> SecrApiError:
    """A 3xx: not followed (it would carry the token, and a write's values, to wherever it points)."""
    parts = urlsplit(location or "")
    # The origin only: a Location's path or query may hold anything.
    where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.scheme and parts.netloc else None
    return SecrApiError(
        f"The API answered {status}, a redirect to {where or 'another address'}, which the SDK does not follow (it would send"
        f" the token and the request there): set api_url to the address the API answers at"
        + (f" ({where}) if you trust it" if where else ""),
        status,
        "http_error",
        request_id=request_id,
    )


def timeout_error(config: Config) -> SecrApiError:
    return SecrApiError(f"No answer from {config.origin} within {config.timeout:g} s", 0, "timeout")


def network_error(config: Config, exc: BaseException) -> SecrApiError:
    # The class name and OS reason only (e.g. "ConnectError: [Errno 111] Connection refused"); httpx's
    # messages do not hold headers, and the URL is reduced to its origin.
    reason = str(exc).strip().replace(config.token, "***")
    return SecrApiError(f"Cannot reach {config.origin}: {type(exc).__name__}" + (f": {reason}" if reason else ""), 0, "network_error")
