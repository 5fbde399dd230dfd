"""SecrApiError: the API's status, code, message and request id; status 0 when no answer came."""

from __future__ import annotations

import asyncio
import pickle
import time
import traceback
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import Live
from local_servers import closed_port, http_server, send_json, silent_server, trickle, url_of
from secr import AsyncSecrClient, FieldError, SecrApiError, SecrClient

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
        # It says where the redirect led (the origin only) and what to do about it.
        assert url_of(elsewhere) in e.value.message and "api_url" in e.value.message and "/v1/" not in e.value.message
        assert elsewhere.requests == []


def test_a_redirect_of_the_change_stream_is_an_error_not_a_reconnect() -> None:
    def moved(h: BaseHTTPRequestHandler) -> None:
        h.send_response(307)
        h.send_header("location", "https://elsewhere.example.test" + h.path)
        h.send_header("content-length", "0")
        h.end_headers()

    with http_server(moved) as server, SecrClient(token="secr_tok_x", api_url=url_of(server)) as c:
        with pytest.raises(SecrApiError) as e:
            next(c.events("o", "p", "dev", reconnect_min=0.01))
    assert (e.value.status_code, e.value.code) == (307, "http_error")
    assert "https://elsewhere.example.test" in e.value.message and len(server.requests) == 1


def _token() -> str:
    # Made here, never a local of the test: a traceback with locals shows the test's frame too.
    return "secr_tok_" + "Q" * 40


def _with_locals(exc: BaseException) -> str:
    """The traceback as Sentry (include_local_variables), pytest --showlocals or rich print it: every frame's locals."""
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def test_a_traceback_with_locals_of_a_failed_call_shows_no_token() -> None:
    # Every request holds the client's configuration as a local (a down server, one that never answers, a 404).
    def not_found(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 404, {"statusCode": 404, "code": "not_found", "message": "no"})

    failures = []
    with silent_server() as silent, http_server(not_found) as server:
        for url in (closed_port(), silent, url_of(server)):
            with SecrClient(token=_token(), api_url=url, timeout=0.5) as c:
                with pytest.raises(SecrApiError) as e:
                    c.pull_secrets("o", "p", "dev")
                failures.append(e.value)
                with pytest.raises(SecrApiError) as e:
                    next(c.events("o", "p", "dev")) if url == url_of(server) else c.set_secret("o", "p", "dev", "K", "v")
                failures.append(e.value)

        async def async_failure() -> SecrApiError:
            async with AsyncSecrClient(token=_token(), api_url=url_of(server), timeout=0.5) as ac:
                with pytest.raises(SecrApiError) as e:
                    await ac.pull_secrets("o", "p", "dev")
            return e.value

        failures.append(asyncio.run(async_failure()))
    assert [f.code for f in failures] == ["network_error", "network_error", "timeout", "timeout", "not_found", "not_found", "not_found"]
    for failure in failures:
        text = _with_locals(failure)
        assert "config = Config(" in text  # the frame that holds the configuration was printed
        assert "QQQQQQQQ" not in text


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
