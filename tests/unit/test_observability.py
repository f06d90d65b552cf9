"""Logs, metrics, RTC verdicts, console sessions: the pieces of operating Ferry, without a server."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ferry.core.model import ChangeKind
from ferry.core.replication_task import ReplicationTask, TaskState
from ferry.observability.logs import REQUEST_ID, JsonFormatter, RequestIdFilter
from ferry.observability.metrics import FerryMetrics
from ferry.protocol import console_session
from ferry.protocol.http import run_blocking
from ferry.replication.rtc import rtc_report
from ferry.storage.sqlite_lag import percentile


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("ferry.test-observability")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_log_lines_are_json_with_the_request_id_even_from_executor_threads() -> None:
    stream = io.StringIO()
    logger = _logger(stream)

    async def request() -> None:
        REQUEST_ID.set("REQ123")
        logger.info("on the loop", extra={"bucket": "b1"})
        with ThreadPoolExecutor(1) as pool:
            await run_blocking(pool, logger.warning, "in a thread %d", 7)

    asyncio.run(request())
    logger.info("outside any request")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["request_id"], x["message"]) for x in lines] == [
        ("REQ123", "on the loop"),
        ("REQ123", "in a thread 7"),
        ("-", "outside any request"),
        ("-", "failed"),
    ]
    assert lines[0]["bucket"] == "b1" and lines[0]["level"] == "info" and lines[0]["time"].endswith("Z")
    assert "ValueError: boom" in lines[3]["exception"]


def test_rtc_verdict() -> None:
    assert rtc_report(True, 600, within=0, late=0, overdue=0).met is None
    assert rtc_report(True, 600, within=10_000, late=0, overdue=0).met is True
    assert rtc_report(True, 600, within=9_999, late=1, overdue=0).met is True  # exactly 99.99%
    missed = rtc_report(True, 600, within=9_998, late=1, overdue=1)  # pending past the threshold counts
    assert (missed.objects, missed.met) == (10_000, False)
    assert rtc_report(False, 600, 1, 0, 0).state == "disabled"


def test_percentile_is_nearest_rank() -> None:
    values = [float(i) for i in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_console_session_cookie() -> None:
    secrets = {"AK1": "s3cret"}
    cookie = console_session.sign_in("AK1", "s3cret", "r1", 1000.0, secrets.get)
    assert cookie is not None
    assert console_session.session_key(cookie, "r1", 1001.0, secrets.get) == "AK1"
    assert console_session.sign_in("AK1", "wrong", "r1", 1000.0, secrets.get) is None
    assert console_session.sign_in("nobody", "s3cret", "r1", 1000.0, secrets.get) is None
    assert console_session.session_key(cookie, "r2", 1001.0, secrets.get) is None  # another region
    expired = 1000.0 + console_session.SESSION_SECONDS + 1
    assert console_session.session_key(cookie, "r1", expired, secrets.get) is None
    tampered = cookie[:-1] + ("a" if cookie[-1] != "a" else "b")
    assert console_session.session_key(tampered, "r1", 1001.0, secrets.get) is None
    assert console_session.session_key("garbage", "r1", 1001.0, secrets.get) is None
    assert console_session.session_key(cookie, "r1", 1001.0, {}.get) is None  # key revoked
    header = f"a=b; {console_session.COOKIE}={cookie}; c=d"
    assert console_session.cookie_of(header) == cookie


def test_metrics_render_requests_and_replication() -> None:
    metrics = FerryMetrics()
    metrics.request("PutObject", 200, 0.004)
    metrics.request("PutObject", 200, 0.2)
    metrics.request("GetObject", 404, 0.001)
    task = ReplicationTask(
        1, "b", "r", "k", "null", 1, ChangeKind.PUT, False, True, 0.0, TaskState.PENDING, 0, ""
    )
    metrics.replicated(task, 1234, 0.05)
    metrics.replicated(task, 0, None)  # a historical copy or a delete: no lag, no bytes
    metrics.failed(task)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    rule = (("bucket", "b"), ("rule", "r"))
    assert samples[("ferry_http_requests_total", (("api", "PutObject"), ("code", "200")))] == 2
    assert samples[("ferry_http_requests_total", (("api", "GetObject"), ("code", "404")))] == 1
    assert (
        samples[("ferry_http_request_duration_seconds_bucket", (("api", "PutObject"), ("le", "0.005")))] == 1
    )
    assert samples[("ferry_replication_replicated_operations_total", rule)] == 2
    assert samples[("ferry_replication_replicated_bytes_total", rule)] == 1234
    assert samples[("ferry_replication_lag_seconds_count", rule)] == 1
    assert samples[("ferry_replication_failed_attempts_total", rule)] == 1
    assert not any(name.endswith("_created") for name, _ in samples)
