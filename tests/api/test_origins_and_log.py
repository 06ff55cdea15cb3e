"""Origin normalization (RFC 6454 section 6.2) and the request log's one clean line per request."""

from __future__ import annotations

import logging
import time

import pytest

from signagent.service.access import OriginInvalidError
from signagent.service.origins import agent_origins, normalize_origin

from .conftest import HANG_GUARD


@pytest.mark.parametrize(("given", "expected"), [
    ("https://portal.test", "https://portal.test"),
    ("HTTPS://Portal.TEST", "https://portal.test"),
    ("https://portal.test:443", "https://portal.test"),
    ("http://portal.test:80", "http://portal.test"),
    ("https://portal.test:8443", "https://portal.test:8443"),
    ("http://127.0.0.1:36985", "http://127.0.0.1:36985"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_origins_are_serialized_once(given: str, expected: str) -> None:
    assert normalize_origin(given) == expected


@pytest.mark.parametrize("given", [
    "null", "", " https://portal.test", "https://portal.test/", "https://portal.test/x", "https://portal.test?q",
    "https://user@portal.test", "ftp://portal.test", "file:///etc/passwd", "portal.test", "https://",
    "https://portal.test:99999", "https://por tal.test", "https://portal.test:", "x" * 5000,
])
def test_unusable_origins_are_refused(given: str) -> None:
    with pytest.raises(OriginInvalidError):
        normalize_origin(given)


def test_agent_origins_are_its_two_host_names() -> None:
    assert agent_origins(36985) == {"http://127.0.0.1:36985", "http://localhost:36985"}


def test_one_clean_log_line_per_request_without_secrets(agent, caplog) -> None:
    caplog.set_level(logging.INFO, logger="signagent.api")
    agent.client.get("/v1/info", headers=agent.local())
    agent.client.get("/v1/x%0Aforged%1b[31m", headers={"Origin": "https://evil.test"})
    started = agent.client.post("/v1/pair", headers={"Origin": "https://portal.test"}).json()
    agent.client.get(f"/pair/{started['request_id']}")

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "signagent.api"]
    # the line is written once the answer is sent: the client may read the answer first
    deadline = time.monotonic() + HANG_GUARD
    while len(logged()) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = logged()
    assert len(lines) == 4 and all("\n" not in line and "\x1b" not in line for line in lines), lines
    assert lines[0].startswith('"GET /v1/info" 200 ') and lines[1].startswith('"GET /v1/x?forged?[31m" 403 ')
    text = "\n".join(lines)
    assert agent.secret not in text and started["request_id"] not in text and '"GET /pair/<id>" 200' in text
