"""The results of the API, as frozen dataclasses named and shaped as the SDK reference shows them.

Fields the reference lists come first, in its order; what the API returns beyond them follows.
Timestamps are timezone-aware ``datetime`` objects (UTC). A secret value never appears in a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

_HIDDEN = "'***'"


@dataclass(frozen=True)
class Secret:
    """A secret with its decrypted value (``repr()`` hides the value)."""

    key: str
    value: str
    version: int
    updated_at: datetime
    description: Optional[str] = None

    def __repr__(self) -> str:
        return (
            f"Secret(key={self.key!r}, value={_HIDDEN}, version={self.version!r}, "
            f"updated_at={self.updated_at!r}, description={self.description!r})"
        )


@dataclass(frozen=True)
class SecretMeta:
    """A secret's key name and version, without its value."""

    key: str
    version: int
    updated_at: datetime
    description: Optional[str] = None


@dataclass(frozen=True)
class PaginationInfo:
    limit: int
    offset: int
    total: int
    """Matching items in all pages."""


@dataclass(frozen=True)
class PullSecretsResult:
    secrets: List[Secret]
    pagination: Optional[PaginationInfo] = None
    """Present only when a ``limit`` was given."""


@dataclass(frozen=True)
class ListKeysResult:
    keys: List[SecretMeta]
    pagination: Optional[PaginationInfo] = None
    """Present only when a ``limit`` was given."""


@dataclass(frozen=True)
class SetSecretResult:
    key: str
    version: int
    created: bool = False
    """True when the key did not exist (or had been deleted)."""


@dataclass(frozen=True)
class BulkSetSecretsResult:
    created: int
    updated: int
    total: int


@dataclass(frozen=True)
class DeleteSecretResult:
    deleted: bool
    key: str


@dataclass(frozen=True)
class PromotedKey:
    key: str
    action: str
    """``created``, ``updated`` or ``skipped``."""
    difference: Optional[str] = None
    """``new`` (not in the target), ``changed`` (another value there), ``identical`` (always skipped) or
    ``exists`` (set there, not compared: the caller may not read the target environment)."""


@dataclass(frozen=True)
class PromoteResult:
    promoted: int
    created: int
    updated: int
    skipped: int
    dry_run: bool = False
    results: List[PromotedKey] = field(default_factory=list)
    """What happened (or would happen) to each key."""


@dataclass(frozen=True)
class Template:
    id: str
    key: str
    description: Optional[str]
    required: bool
    created_at: datetime


@dataclass(frozen=True)
class TemplateValidation:
    valid: bool
    missing: List[str]
    extra: List[str]


@dataclass(frozen=True)
class ActorRef:
    """Who wrote a version; ``None`` in its place when that account was deleted."""

    id: str
    email: str


@dataclass(frozen=True)
class SecretVersion:
    """One version of a secret, with its value (``repr()`` hides the value)."""

    version: int
    value: str
    description: Optional[str]
    source: str
    """How it was written: ``set``, ``import``, ``rollback`` or ``promote``."""
    created_at: datetime
    created_by: Optional[ActorRef]

    def __repr__(self) -> str:
        return (
            f"SecretVersion(version={self.version!r}, value={_HIDDEN}, description={self.description!r}, "
            f"source={self.source!r}, created_at={self.created_at!r}, created_by={self.created_by!r})"
        )


@dataclass(frozen=True)
class SecretHistory:
    key: str
    deleted: bool
    """True when the key is soft-deleted (its history stays)."""
    versions: List[SecretVersion]
    """Newest first."""


@dataclass(frozen=True)
class RollbackResult:
    key: str
    version: int
    """The new current version."""
    restored_from: int
    """The version whose value it carries."""


@dataclass(frozen=True)
class BulkDeleteResult:
    deleted: int
    keys: List[str]


@dataclass(frozen=True)
class AuditEvent:
    """One audit event: who did what, from where; ``metadata`` holds names, counts and ids, never a value."""

    id: str
    created_at: datetime
    action: str
    actor_user_id: Optional[str]
    actor_email: Optional[str]
    actor_token_id: Optional[str]
    ip: Optional[str]
    user_agent: Optional[str]
    request_id: Optional[str]
    metadata: Dict[str, Any]


@dataclass(frozen=True)
class AuditCursors:
    before: Optional[str]
    """Pass as ``before`` for the next page (older events); ``None``: no older event."""
    after: Optional[str]
    """Pass as ``after`` for events newer than this page."""


@dataclass(frozen=True)
class AuditPage:
    events: List[AuditEvent]
    """Newest first."""
    cursors: AuditCursors
    pagination: Optional[PaginationInfo] = None
    """Offset paging only (no ``before``/``after``)."""


@dataclass(frozen=True)
class AuditProblem:
    problem: str
    """``changed``, ``removed``, ``reordered``, ``checkpoint_mismatch`` or ``checkpoint_forged``."""
    seq: str
    """The position in the org's chain."""
    event_id: Optional[str]
    message: str


@dataclass(frozen=True)
class AuditVerification:
    valid: bool
    from_seq: str
    to_seq: str
    checked: int
    checkpoints: int
    first_problem: Optional[AuditProblem]


@dataclass(frozen=True)
class DiffEntry:
    key: str
    status: str
    """``only_in_source``, ``only_in_target``, ``changed`` or ``identical``."""
    source_version: Optional[int] = None
    target_version: Optional[int] = None
    source_value: Optional[str] = None
    """Only with ``show_values=True``."""
    target_value: Optional[str] = None


@dataclass(frozen=True)
class EnvironmentDiff:
    from_env: str
    to_env: str
    differ: bool
    only_in_source: int
    only_in_target: int
    changed: int
    identical: int
    keys: List[DiffEntry] = field(default_factory=list)


@dataclass(frozen=True)
class RestoredKey:
    key: str
    action: str
    """``restored``, ``revived``, ``deleted`` or ``unchanged``."""
    from_version: Optional[int] = None
    """The version current at the instant (none for ``deleted``)."""
    version: Optional[int] = None
    """The new version written (none for a dry run)."""


@dataclass(frozen=True)
class RestoreResult:
    to: datetime
    dry_run: bool
    restored: int
    revived: int
    deleted: int
    unchanged: int
    results: List[RestoredKey] = field(default_factory=list)
