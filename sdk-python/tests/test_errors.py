"""SecrApiError: the API's status, code, message and request id; status 0 when no answer came."""

from __future__ import annotations

import pickle
import time
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import Live
from local_servers import closed_port, http_server, send_json, silent_server, trickle, url_of
from secr import FieldError, SecrApiError, SecrClient

VALUE = "hunter2-do-not-leak"


def test_a_wrong_token_raises_unauthorized(live: Live) -> None:
    with SecrClient(token="secr_cli_" + "x" * 43, api_url=live.api_url) as bad:
        with pytest.raises(SecrApiError) as e:
            bad.pull_secrets(live.org, "my-project", "dev")
    assert (e.value.status_code, e.value.code) == (401, "unauthorized")
    assert e.value.message and e.value.request_id


def test_an_unknown_environment_raises_not_found_with_the_api_message(client: SecrClient, live: Live, project: str) -> None:
    with pytest.raises(SecrApiError) as e:
        client.pull_secrets(live.org, project, "qa")
    assert (e.value.status_code, e.value.code, e.value.message) == (404, "not_found", "Environment 'qa' not found")
    assert str(e.value) == "Environment 'qa' not found"
    assert e.value.request_id


def test_a_read_token_may_not_write(live: Live, project: str) -> None:
    with SecrClient(token=live.read_token, api_url=live.api_url) as reader:
        with pytest.raises(SecrApiError) as e:
            reader.set_secret(live.org, project, "dev", "K", VALUE)
    assert (e.value.status_code, e.value.code) == (403, "forbidden")


def test_validation_errors_name_the_field_and_never_the_value_or_token(client: SecrClient, live: Live, project: str) -> None:
    with pytest.raises(SecrApiError) as e:
        client.set_secret(live.org, project, "dev", "1-not-a-key", VALUE)
    err = e.value
    assert (err.status_code, err.code) == (400, "validation_failed")
    assert [f.field for f in err.errors] == ["key"] and isinstance(err.errors[0], FieldError)
    for text in (str(err), repr(err), err.message, repr(err.errors)):
        assert VALUE not in text and live.token not in text


def test_a_server_that_is_down_raises_status_0_network_error() -> None:
    url = closed_port()
    with SecrClient(token="secr_tok_secret_token_value", api_url=url, timeout=5) as offline:
        with pytest.raises(SecrApiError) as e:
            offline.list_templates("o", "p")
    assert (e.value.status_code, e.value.code) == (0, "network_error")
    assert url in e.value.message and "secr_tok_secret_token_value" not in repr(e.value)
    assert isinstance(e.value.__cause__, Exception)


def test_a_server_that_never_answers_raises_status_0_timeout_after_the_timeout() -> None:
    with silent_server() as url, SecrClient(token="secr_tok_x", api_url=url, timeout=0.5) as slow:
        started = time.monotonic()
        with pytest.raises(SecrApiError) as e:
            slow.pull_secrets("o", "p", "dev")
        elapsed = time.monotonic() - started
    assert (e.value.status_code, e.value.code) == (0, "timeout")
    assert "0.5 s" in e.value.message
    assert 0.5 <= elapsed < 4  # waited for the timeout, then gave up (well before httpx's default of 5 s)


def test_a_body_that_trickles_in_past_the_timeout_is_abandoned() -> None:
    with http_server(trickle) as server, SecrClient(token="secr_tok_x", api_url=url_of(server), timeout=0.5) as slow:
        started = time.monotonic()
        with pytest.raises(SecrApiError) as e:
            slow.pull_secrets("o", "p", "dev")
        elapsed = time.monotonic() - started
    assert (e.value.status_code, e.value.code) == (0, "timeout")
    assert elapsed < 4  # the whole body would take 10 s


def test_a_redirect_is_not_followed_and_carries_the_token_nowhere() -> None:
    def second(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 200, {"secrets": []})

    with http_server(second) as elsewhere:

        def first(h: BaseHTTPRequestHandler) -> None:
            h.send_response(302)
            h.send_header("location", url_of(elsewhere) + h.path)
            h.send_header("content-length", "0")
            h.end_headers()

        with http_server(first) as server, SecrClient(token="secr_tok_x", api_url=url_of(server)) as c:
            with pytest.raises(SecrApiError) as e:
                c.pull_secrets("o", "p", "dev")
        assert (e.value.status_code, e.value.code) == (302, "http_error")
        assert elsewhere.requests == []


def test_a_non_json_error_page_keeps_the_status_and_the_request_id_header() -> None:
    def proxy(h: BaseHTTPRequestHandler) -> None:
        body = b"<html>Bad gateway</html>"
        h.send_response(502)
        h.send_header("content-type", "text/html")
        h.send_header("x-request-id", "req-123")
        h.send_header("content-length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with http_server(proxy) as server, SecrClient(token="secr_tok_x", api_url=url_of(server)) as c:
        with pytest.raises(SecrApiError) as e:
            c.list_keys("o", "p", "dev")
    assert (e.value.status_code, e.value.code, e.value.message, e.value.request_id) == (502, "http_error", "HTTP 502", "req-123")


def test_a_2xx_answer_that_is_not_the_api_raises_invalid_response_without_its_content() -> None:
    def wrong(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 200, {"secrets": [{"key": "A", "value": VALUE}]})  # no version, no updatedAt

    with http_server(wrong) as server, SecrClient(token="secr_tok_x", api_url=url_of(server)) as c:
        with pytest.raises(SecrApiError) as e:
            c.pull_secrets("o", "p", "dev")
    assert (e.value.status_code, e.value.code) == (200, "invalid_response")
    assert VALUE not in str(e.value) and e.value.__cause__ is None


def test_secr_api_error_pickles_with_its_details() -> None:
    err = SecrApiError("bad", 400, "validation_failed", request_id="r1", errors=[FieldError("key", "nope")])
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.status_code, copy.code, copy.request_id, copy.errors) == ("bad", 400, "validation_failed", "r1", [FieldError("key", "nope")])
