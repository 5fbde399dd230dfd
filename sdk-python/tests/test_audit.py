"""The audit log methods against the live server: cursor paging, filters and the chain's verification."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import Live
from secr import AuditPage, AuditVerification, SecrApiError, SecrClient


def test_query_audit_pages_by_cursor_and_filters(client: SecrClient, live: Live) -> None:
    # The org outlives this run (the harness's server may run the suite more than once): every query is
    # scoped to this test's own project, so rows of earlier runs are never counted.
    project, project_id = live.create_project_with_id()
    client.bulk_set_secrets(live.org, project, "dev", [{"key": "AUDIT_A", "value": "a-value"}, {"key": "AUDIT_B", "value": "b"}])
    client.set_secret(live.org, project, "dev", "AUDIT_A", "a-value-2")
    page = client.query_audit(live.org_id, project_id=project_id, key="AUDIT_A", limit=1)
    assert isinstance(page, AuditPage)
    assert [e.action for e in page.events] == ["secret.updated"]
    assert page.pagination is not None and page.pagination.total == 2
    assert page.cursors.before is not None
    older = client.query_audit(live.org_id, project_id=project_id, key="AUDIT_A", limit=1, before=page.cursors.before)
    assert [e.action for e in older.events] == ["secret.bulk_set"]
    assert older.pagination is None and older.cursors.before is None
    assert "a-value" not in repr(older)
    assert older.events[0].metadata["projectId"] == project_id
    by_project = client.query_audit(live.org_id, project_id=project_id, action="secret.updated")
    assert [e.metadata["key"] for e in by_project.events] == ["AUDIT_A"]
    now = datetime.now(timezone.utc)
    assert client.query_audit(live.org_id, project_id=project_id, until=now - timedelta(hours=1)).events == []
    with pytest.raises(SecrApiError) as raised:
        client.query_audit(live.org_id, before="not a cursor")
    assert raised.value.status_code == 400


def test_verify_audit_reports_an_intact_chain(client: SecrClient, live: Live) -> None:
    result = client.verify_audit(live.org_id)
    assert isinstance(result, AuditVerification)
    assert result.valid and result.first_problem is None
    assert result.checked > 0
