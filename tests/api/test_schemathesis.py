"""Schema-driven fuzzing of the real agent (schemathesis 4): every operation of ``/openapi.json``, called with
generated requests, never answers 5xx and always answers as its OpenAPI description says -- which means every
route must declare the error document for the statuses it gives (:mod:`signagent.api.openapi_errors`).

Twice: as a local program (the local secret) and as an unpaired web page (``Origin: https://evil.test``), which
the security middleware refuses almost everywhere -- with a declared answer too.

Bounded for CI: a few dozen examples per operation, no deadline, no shrinking; the streaming endpoint (events)
is left out (a request to it never ends by design). Operations that open confirmation requests only create
pending requests; the test environment has no token (tests/conftest.py), so nothing is ever signed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the importorskip)
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance  # noqa: E402

from signagent.service.local_secret import SECRET_HEADER  # noqa: E402

from . import conftest as api_conftest  # noqa: E402

ERROR_FIELDS = {"code": str, "message": str, "message_ru": str, "retriable": bool}


def error_document_declared(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    """An error answer is the error document, and the operation's description says so for that status.

    (FastAPI's own 422 schema, ``HTTPValidationError``, requires no property: any object conforms to it, so
    response_schema_conformance alone would let a wrong description of 422 pass.)
    """
    if response.status_code < 400:
        return
    body = response.json()
    error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
    if not isinstance(error, dict) or not all(isinstance(error.get(k), t) for k, t in ERROR_FIELDS.items()):
        raise AssertionError(f"{response.status_code}: not the error document: {str(body)[:200]}")
    declared = case.operation.definition.raw.get("responses", {})
    answer = declared.get(str(response.status_code)) or declared.get("default") or {}
    if not answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "").endswith(
            "/ErrorDocument"):
        raise AssertionError(f"{response.status_code} {error['code']}: the operation does not declare the error "
                             f"document for this status (declared: {sorted(declared)})")


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, error_document_declared]
STREAMING = r"^/v1/events$"
EXAMPLES = settings(max_examples=30, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzzed_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[api_conftest.Agent]:
    """One agent for the whole module (the real application)."""
    runner = api_conftest.AgentRunner(tmp_path_factory.mktemp("schemathesis"))
    try:
        yield runner.start()
    finally:
        runner.stop_all()


def _fuzz(agent: api_conftest.Agent, headers: dict[str, str]) -> None:
    """Every operation of the served description, positive and negative cases; all failures listed at once.

    (A loop of plain Hypothesis tests rather than ``schemathesis.pytest.from_fixture``: its lazy loader renames
    pytest nodes through an attribute pytest 9 no longer has.)
    """
    schema = schemathesis.openapi.from_url(f"{agent.url}/openapi.json", timeout=api_conftest.HANG_GUARD)
    schema = schema.exclude(path_regex=STREAMING)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @EXAMPLES
            def run(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(base_url=agent.url, headers=headers, checks=CHECKS,
                                       timeout=api_conftest.HANG_GUARD)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameter, no body): no negative case exists
            except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the list is the verdict
                found = getattr(exc, "exceptions", None) or (exc,)
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): "
                                + "; ".join(" ".join(str(e).split())[:300] for e in found))
    assert operations >= 5
    assert not failures, "\n\n".join(failures)


def test_as_a_local_program(fuzzed_agent: api_conftest.Agent) -> None:
    _fuzz(fuzzed_agent, {SECRET_HEADER: fuzzed_agent.secret})


def test_as_an_unpaired_site(fuzzed_agent: api_conftest.Agent) -> None:
    _fuzz(fuzzed_agent, {"Origin": "https://evil.test"})
