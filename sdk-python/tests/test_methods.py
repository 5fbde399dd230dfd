"""Every method of SecrClient against the live server, each test in a fresh project."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import Live
from secr import (
    BulkDeleteResult,
    BulkSetSecretsResult,
    DeleteSecretResult,
    PaginationInfo,
    PromotedKey,
    PromoteResult,
    RollbackResult,
    SecrApiError,
    SecrClient,
    SetSecretResult,
    TemplateValidation,
)


def test_set_secret_creates_then_versions_a_secret(client: SecrClient, live: Live, project: str) -> None:
    assert client.set_secret(live.org, project, "dev", "API_KEY", "sk-1", description="Stripe") == SetSecretResult(
        key="API_KEY", version=1, created=True
    )
    assert client.set_secret(live.org, project, "development", "API_KEY", "sk-2") == SetSecretResult(key="API_KEY", version=2, created=False)
    (secret,) = client.pull_secrets(live.org, project, "dev").secrets
    assert (secret.key, secret.value, secret.version, secret.description) == ("API_KEY", "sk-2", 2, "Stripe")


def test_pull_secrets_returns_values_and_no_pagination_without_limit(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "staging", [{"key": "B", "value": "2"}, {"key": "A", "value": "1"}])
    result = client.pull_secrets(live.org, project, "stg")
    assert [(s.key, s.value, s.version) for s in result.secrets] == [("A", "1", 1), ("B", "2", 1)]
    assert result.pagination is None
    updated = result.secrets[0].updated_at
    assert isinstance(updated, datetime) and updated.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - updated).total_seconds()) < 3600


def test_pull_secrets_pages_and_filters_with_limit_offset_and_search(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "dev", [{"key": k, "value": k.lower()} for k in ("DB_HOST", "DB_USER", "DB_PASS", "REDIS")])
    page = client.pull_secrets(live.org, project, "dev", limit=2, offset=1, search="DB_")
    assert [s.key for s in page.secrets] == ["DB_PASS", "DB_USER"]
    assert page.pagination == PaginationInfo(limit=2, offset=1, total=3)
    assert [s.key for s in client.pull_secrets(live.org, project, "dev", search="RED").secrets] == ["REDIS"]


def test_pull_secrets_resolves_references_unless_raw(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "staging", [{"key": "HOST", "value": "db.stg"}])
    client.bulk_set_secrets(live.org, project, "dev", [{"key": "URL", "value": "pg://${staging.HOST}/app"}])
    assert client.pull_secrets(live.org, project, "dev").secrets[0].value == "pg://db.stg/app"
    assert client.pull_secrets(live.org, project, "dev", raw=True).secrets[0].value == "pg://${staging.HOST}/app"


def test_list_keys_returns_names_and_versions_without_values(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "dev", [{"key": "A", "value": "1"}, {"key": "B", "value": "2", "description": "bee"}])
    client.set_secret(live.org, project, "dev", "B", "3")
    result = client.list_keys(live.org, project, "dev")
    assert [(k.key, k.version, k.description) for k in result.keys] == [("A", 1, None), ("B", 2, "bee")]
    assert not hasattr(result.keys[0], "value")
    assert result.pagination is None
    page = client.list_keys(live.org, project, "dev", limit=1)
    assert [k.key for k in page.keys] == ["A"] and page.pagination == PaginationInfo(limit=1, offset=0, total=2)


def test_bulk_set_secrets_counts_created_and_updated(client: SecrClient, live: Live, project: str) -> None:
    client.set_secret(live.org, project, "dev", "A", "old")
    result = client.bulk_set_secrets(live.org, project, "dev", [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}])
    assert result == BulkSetSecretsResult(created=1, updated=1, total=2)


def test_delete_secret_soft_deletes_it(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "dev", [{"key": "OLD_KEY", "value": "x"}, {"key": "KEEP", "value": "y"}])
    assert client.delete_secret(live.org, project, "dev", "OLD_KEY") == DeleteSecretResult(deleted=True, key="OLD_KEY")
    assert [k.key for k in client.list_keys(live.org, project, "dev").keys] == ["KEEP"]
    assert client.secret_history(live.org, project, "dev", "OLD_KEY").deleted is True


def test_secret_history_lists_every_version_newest_first(client: SecrClient, live: Live, project: str) -> None:
    client.set_secret(live.org, project, "dev", "K", "v1", description="first")
    client.set_secret(live.org, project, "dev", "K", "v2")
    history = client.secret_history(live.org, project, "dev", "K")
    assert history.key == "K" and history.deleted is False
    assert [(v.version, v.value, v.source) for v in history.versions] == [(2, "v2", "set"), (1, "v1", "set")]
    assert history.versions[0].created_by is not None and history.versions[0].created_by.email.endswith("@example.com")
    assert isinstance(history.versions[0].created_at, datetime)


def test_rollback_secret_writes_an_earlier_value_as_a_new_version(client: SecrClient, live: Live, project: str) -> None:
    client.set_secret(live.org, project, "dev", "K", "good")
    client.set_secret(live.org, project, "dev", "K", "bad")
    assert client.rollback_secret(live.org, project, "dev", "K", 1) == RollbackResult(key="K", version=3, restored_from=1)
    (secret,) = client.pull_secrets(live.org, project, "dev").secrets
    assert (secret.value, secret.version) == ("good", 3)


def test_bulk_delete_secrets_deletes_all_named_keys(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "dev", [{"key": k, "value": "v"} for k in ("A", "B", "C")])
    result = client.bulk_delete_secrets(live.org, project, "dev", ["A", "C"])
    assert result.deleted == 2 and sorted(result.keys) == ["A", "C"]
    assert isinstance(result, BulkDeleteResult)
    assert [k.key for k in client.list_keys(live.org, project, "dev").keys] == ["B"]


def test_promote_secrets_copies_creates_skips_and_overwrites(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "staging", [{"key": "DB", "value": "new-db"}, {"key": "REDIS", "value": "r"}])
    client.set_secret(live.org, project, "production", "DB", "old-db")

    dry = client.promote_secrets(live.org, project, from_env="staging", to_env="production", dry_run=True)
    assert (dry.promoted, dry.created, dry.updated, dry.skipped, dry.dry_run) == (1, 1, 0, 1, True)
    assert client.list_keys(live.org, project, "production").keys[0].key == "DB"  # nothing changed

    only = client.promote_secrets(live.org, project, from_env="stg", to_env="prod", keys=["REDIS"])
    assert only == PromoteResult(promoted=1, created=1, updated=0, skipped=0, dry_run=False, results=[PromotedKey("REDIS", "created", "new")])

    skipped = client.promote_secrets(live.org, project, from_env="staging", to_env="production")
    assert (skipped.promoted, skipped.skipped) == (0, 2)
    assert client.pull_secrets(live.org, project, "production", search="DB").secrets[0].value == "old-db"

    over = client.promote_secrets(live.org, project, from_env="staging", to_env="production", overwrite=True)
    assert (over.promoted, over.created, over.updated, over.skipped) == (1, 0, 1, 1)  # REDIS already holds the same value: skipped
    assert client.pull_secrets(live.org, project, "production", search="DB").secrets[0].value == "new-db"


def test_promote_secrets_takes_its_options_by_keyword_only(client: SecrClient, live: Live, project: str) -> None:
    with pytest.raises(TypeError):
        client.promote_secrets(live.org, project, "staging", "production")  # type: ignore[misc]
    with pytest.raises(TypeError):
        client.pull_secrets(live.org, project, "dev", 10)  # type: ignore[misc]


def test_templates_are_added_listed_validated_and_removed(client: SecrClient, live: Live, project: str) -> None:
    assert client.list_templates(live.org, project) == []
    db = client.add_template(live.org, project, "DATABASE_URL", description="Primary database")
    client.add_template(live.org, project, "SENTRY_DSN", required=False)
    templates = client.list_templates(live.org, project)
    assert [(t.key, t.required, t.description) for t in templates] == [("DATABASE_URL", True, "Primary database"), ("SENTRY_DSN", False, None)]
    assert templates[0] == db and isinstance(db.created_at, datetime) and db.id

    client.bulk_set_secrets(live.org, project, "production", [{"key": "REDIS_URL", "value": "r"}, {"key": "SENTRY_DSN", "value": "s"}])
    assert client.validate_template(live.org, project, "production") == TemplateValidation(valid=False, missing=["DATABASE_URL"], extra=["REDIS_URL"])
    client.set_secret(live.org, project, "production", "DATABASE_URL", "db")
    assert client.validate_template(live.org, project, "prod") == TemplateValidation(valid=True, missing=[], extra=["REDIS_URL"])

    client.remove_template(live.org, project, "DATABASE_URL")
    assert [t.key for t in client.list_templates(live.org, project)] == ["SENTRY_DSN"]


def test_names_with_reserved_characters_stay_one_path_segment(client: SecrClient, live: Live, project: str) -> None:
    # "a/b" and "?" must not reach other routes: the server sees one segment and answers 404.
    with pytest.raises(SecrApiError) as e:
        client.pull_secrets(live.org, project, "dev/keys")
    assert (e.value.status_code, e.value.code) == (404, "not_found")
    with pytest.raises(SecrApiError) as e:
        client.delete_secret(live.org, project, "dev", "A?x=1")
    assert e.value.status_code in (400, 404)
    with pytest.raises(ValueError):
        client.pull_secrets(live.org, project, "..")


def test_diff_environments_and_restore_environment(client: SecrClient, live: Live, project: str) -> None:
    client.bulk_set_secrets(live.org, project, "staging", [{"key": "SAME", "value": "x"}, {"key": "OTHER", "value": "staging"}])
    client.bulk_set_secrets(live.org, project, "production", [{"key": "SAME", "value": "x"}])
    diff = client.diff_environments(live.org, project, from_env="stg", to_env="prod")
    assert (diff.differ, diff.only_in_source, diff.identical) == (True, 1, 1)
    assert [(k.key, k.status, k.source_value) for k in diff.keys] == [("OTHER", "only_in_source", None), ("SAME", "identical", None)]
    shown = client.diff_environments(live.org, project, from_env="staging", to_env="production", keys=["OTHER"], show_values=True)
    assert shown.keys[0].source_value == "staging"

    before = datetime.now(timezone.utc)
    client.set_secret(live.org, project, "staging", "OTHER", "changed")
    plan = client.restore_environment(live.org, project, "staging", to=before, dry_run=True)
    assert plan.dry_run and [(r.key, r.action) for r in plan.results] == [("OTHER", "restored"), ("SAME", "unchanged")]
    done = client.restore_environment(live.org, project, "staging", to=before)
    assert (done.restored, done.results[0].version) == (1, 3)
    assert [s.value for s in client.pull_secrets(live.org, project, "staging").secrets] == ["staging", "x"]
