"""The error tree: stable, unique codes; messages in both languages; generic base classes kept."""

from __future__ import annotations

import inspect

import signagent.errors as errors


def all_error_classes() -> list[type[errors.SignAgentError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.SignAgentError)]


def test_codes_unique_and_messages_bilingual() -> None:
    classes = all_error_classes()
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), codes
    for cls in classes:
        assert cls.code.isidentifier() and cls.code == cls.code.lower()
        assert cls.default_message and cls.default_message_ru
        assert any("\u0400" <= ch <= "\u04ff" for ch in cls.default_message_ru), cls


def test_argument_errors_stay_value_and_type_errors() -> None:
    assert issubclass(errors.InvalidLengthError, ValueError)
    assert issubclass(errors.InvalidTypeError, TypeError)
    assert issubclass(errors.InvalidPointError, errors.InvalidKeyError)


def test_to_dict_carries_code_and_details() -> None:
    err = errors.InvalidLengthError("digest must be 32 bytes", message_ru="дайджест должен быть 32 байта", got=31)
    assert err.to_dict() == {
        "code": "invalid_length",
        "message": "digest must be 32 bytes",
        "message_ru": "дайджест должен быть 32 байта",
        "retriable": False,
        "details": {"got": "31"},
    }
    assert str(err) == "digest must be 32 bytes"
