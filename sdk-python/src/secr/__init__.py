"""secr-sdk: the Python client of the secr secrets manager.

    from secr import SecrClient, SecrApiError

    with SecrClient(token="secr_cli_...") as client:
        for s in client.pull_secrets("my-org", "my-project", "production").secrets:
            print(s.key)
"""

from ._client import AsyncSecrClient, SecrClient
from ._core import DEFAULT_API_URL, DEFAULT_TIMEOUT, InsecureApiUrlWarning
from ._errors import FieldError, SecrApiError
from ._events import ChangeEvent, KeyChange
from ._types import (
    ActorRef,
    AuditCursors,
    AuditEvent,
    AuditPage,
    AuditProblem,
    AuditVerification,
    BulkDeleteResult,
    BulkSetSecretsResult,
    DeleteSecretResult,
    DiffEntry,
    EnvironmentDiff,
    ListKeysResult,
    PaginationInfo,
    PromotedKey,
    PromoteResult,
    PullSecretsResult,
    RestoredKey,
    RestoreResult,
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

__all__ = [
    "AsyncSecrClient",
    "SecrClient",
    "SecrApiError",
    "FieldError",
    "DEFAULT_API_URL",
    "DEFAULT_TIMEOUT",
    "InsecureApiUrlWarning",
    "ActorRef",
    "ChangeEvent",
    "KeyChange",
    "AuditCursors",
    "AuditEvent",
    "AuditPage",
    "AuditProblem",
    "AuditVerification",
    "BulkDeleteResult",
    "BulkSetSecretsResult",
    "DeleteSecretResult",
    "DiffEntry",
    "EnvironmentDiff",
    "ListKeysResult",
    "PaginationInfo",
    "PromotedKey",
    "PromoteResult",
    "PullSecretsResult",
    "RestoredKey",
    "RestoreResult",
    "RollbackResult",
    "Secret",
    "SecretHistory",
    "SecretMeta",
    "SecretVersion",
    "SetSecretResult",
    "Template",
    "TemplateValidation",
    "__version__",
]
