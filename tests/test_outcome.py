"""The one outcome vocabulary (signagent.outcome): reasons, their JSON form, the status ranking, the exit codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from signagent.cms.report import cms_reason
from signagent.outcome import Reason, ReasonTable, exit_code, rank, status_of, worst
from signagent.service import signatures, validation
from signagent.trust.report import ValidationReport, reason


def test_the_ranking_is_valid_then_indeterminate_then_invalid() -> None:
    assert [rank(s) for s in ("valid", "indeterminate", "invalid")] == [0, 1, 2]
    assert worst() == "valid"
    assert worst("valid", "indeterminate") == "indeterminate"
    assert worst("indeterminate", "invalid", "valid") == "invalid"


def test_a_set_of_reasons_is_as_bad_as_its_worst_severity() -> None:
    table = ReasonTable({"a": ("A", "А"), "b": ("B {x}", "Б {x}")}, indeterminate={"a"})
    assert status_of([]) == "valid"
    assert status_of([table("a")]) == "indeterminate"
    assert status_of([table("a"), table("b", x=1)]) == "invalid"
    assert table("b", x=1).message == "B 1" and table("b", x=1).message_ru == "Б 1"


@pytest.mark.parametrize(("status", "code"), [("valid", 0), ("invalid", 1), ("indeterminate", 2)])
def test_one_exit_code_mapping_serves_both_commands(status: str, code: int) -> None:
    report = ValidationReport(status, (), (), (), (), datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert exit_code(status) == exit_code(report) == code  # type: ignore[arg-type]
    assert validation.exit_code is signatures.exit_code is exit_code


def test_the_json_forms_keep_their_shapes() -> None:
    # trust reasons: no scope; CMS reasons: scope after code; certificate problems: field after code
    chain = reason("issuer_not_found", issuer="CN=X", certificate="AB", subject="CN=Y")
    assert list(chain.to_dict()) == ["code", "message", "message_ru", "certificate", "subject", "details"]
    assert chain.severity == "indeterminate"
    carried = chain.in_scope("chain")
    assert list(carried.to_dict())[:2] == ["code", "scope"] and carried.to_dict()["scope"] == "chain"
    assert carried.severity == "indeterminate" and carried.code == "issuer_not_found"
    own = cms_reason("bad_signature")
    assert own.to_dict() == {"code": "bad_signature", "scope": "signature", "message": own.message,
                             "message_ru": own.message_ru}
    problem = Reason("inn_checksum", "m", "м", field="inn")
    assert problem.to_dict() == {"code": "inn_checksum", "field": "inn", "message": "m", "message_ru": "м"}


def test_times_in_details_are_written_in_utc_seconds() -> None:
    expired = reason("expired", not_after=datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC))
    assert expired.details == {"not_after": "2030-05-06 07:08:09Z"} and "2030-05-06 07:08:09Z" in expired.message
