"""Check digits of ИНН, ОГРН, ОГРНИП, СНИЛС: published examples, real values, hand-computed bad ones, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signagent.errors import InvalidInputError
from signagent.x509 import checksums as cs

# Known-valid numbers: the Минцифры and ФНС numbers printed in the real CA certificates, and the examples that
# public descriptions of the algorithms use (Wikipedia "ИНН", "ОГРН", "СНИЛС").
VALID = [
    (cs.check_ogrn, "1047702026701"),  # Минцифры России
    (cs.check_ogrn, "1047707030513"),  # ФНС России
    (cs.check_ogrn, "1027700132195"),  # ПАО Сбербанк
    (cs.check_inn10, "7710474375"),  # Минцифры России
    (cs.check_inn10, "7707329152"),  # ФНС России
    (cs.check_inn10, "7707083893"),  # ПАО Сбербанк
    (cs.check_inn12, "500100732259"),
    (cs.check_ogrnip, "304500116000157"),
    (cs.check_snils, "11223344595"),
    (cs.check_snils, "00100199800"),  # at the 001-001-998 limit: not checked, any control number goes
]

# Hand-computed: e.g. 7710474375 -> weights 2,4,10,3,5,9,4,6,8 give 268 = 24*11 + 4, so the check digit is 4, not 6.
INVALID = [
    (cs.check_ogrn, "1047702026702", "checksum"),  # 104770202670 mod 11 = 1
    (cs.check_inn10, "7710474376", "checksum"),
    (cs.check_inn12, "500100732258", "checksum"),  # second check digit is 9
    (cs.check_inn12, "500100732359", "checksum"),  # first check digit is 5, not 3
    (cs.check_ogrnip, "304500116000158", "checksum"),
    (cs.check_snils, "11223344596", "checksum"),  # 1*9+1*8+2*7+2*6+3*5+3*4+4*3+4*2+5*1 = 95
    (cs.check_snils, "00100199900", "checksum"),  # first number the rule applies to: control 1*6+1*2+9*3+... != 0
    (cs.check_ogrn, "104770202670", "length"),
    (cs.check_inn, "77104743", "length"),
    (cs.check_inn, "771047437", "length"),
    (cs.check_snils, "112-233-445 95", "not_digits"),
    (cs.check_ogrnip, "30450011600015A", "not_digits"),
    (cs.check_inn, "", "not_digits"),
    (cs.check_inn10, "७७१०४७४३७५", "not_digits"),  # Devanagari digits: str.isdigit() is True, still not ASCII
]


@pytest.mark.parametrize(("check", "value"), VALID)
def test_known_valid_numbers_pass(check, value):
    assert check(value) is None


@pytest.mark.parametrize(("check", "value", "kind"), INVALID)
def test_bad_numbers_are_flagged_with_their_kind(check, value, kind):
    assert check(value) == kind


def test_check_inn_dispatches_on_length():
    assert cs.check_inn("7710474375") is None
    assert cs.check_inn("500100732259") is None
    assert cs.check_inn("7710474376") == "checksum"
    assert cs.is_valid_inn("500100732259") and not cs.is_valid_inn("500100732258")
    assert cs.is_valid_ogrn("1047702026701") and cs.is_valid_ogrnip("304500116000157")
    assert cs.is_valid_snils("11223344595") and not cs.is_valid_snils("11223344596")


@pytest.mark.parametrize(("complete", "value"), [
    (cs.complete_inn10, "7710474375"), (cs.complete_inn12, "500100732259"), (cs.complete_ogrn, "1047702026701"),
    (cs.complete_ogrnip, "304500116000157"), (cs.complete_snils, "11223344595"),
])
def test_complete_recomputes_published_check_digits(complete, value):
    body_length = {cs.complete_inn12: 10, cs.complete_snils: 9}.get(complete, len(value) - 1)
    assert complete(value[:body_length]) == value


def test_complete_rejects_a_bad_body():
    with pytest.raises(InvalidInputError):
        cs.complete_ogrn("12345")
    with pytest.raises(InvalidInputError):
        cs.complete_inn10("12345678x")


def test_snils_control_of_100_and_101_is_00():
    # Bodies whose weighted sum is exactly 100 / 101 / 202 (hand-picked), all must end in 00.
    for body in ("000029999", "920001000", "997000000"):
        total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
        assert total in (100, 101, 202)
        assert cs.complete_snils(body).endswith("00")


# -- properties -------------------------------------------------------------------------------------------------------

_SCHEMES = [
    # (complete, check, body length, raw remainder of the body before the final "mod 10")
    (cs.complete_inn10, cs.check_inn10, 9, lambda b: sum(int(d) * w for d, w in zip(b, (2, 4, 10, 3, 5, 9, 4, 6, 8),
                                                                                    strict=True)) % 11),
    (cs.complete_ogrn, cs.check_ogrn, 12, lambda b: int(b) % 11),
    (cs.complete_ogrnip, cs.check_ogrnip, 14, lambda b: int(b) % 13),
]


def _mutate(value: str, position: int, delta: int) -> str:
    return value[:position] + str((int(value[position]) + delta) % 10) + value[position + 1 :]


@settings(max_examples=300, deadline=None)
@given(scheme=st.sampled_from(_SCHEMES), data=st.data())
def test_a_changed_digit_is_flagged_unless_the_remainders_collide(scheme, data):
    complete, check, body_length, remainder = scheme
    body = data.draw(st.text("0123456789", min_size=body_length, max_size=body_length))
    valid = complete(body)
    assert check(valid) is None
    position = data.draw(st.integers(0, len(valid) - 1))
    changed = _mutate(valid, position, data.draw(st.integers(1, 9)))
    if position == body_length:
        assert check(changed) == "checksum"  # a changed check digit is always caught
    elif check(changed) is None:
        # The published rule keeps only the last digit of the remainder: two remainders ending in the same digit
        # (0 and 10, or 1 and 11, 2 and 12 for ОГРНИП) are the only way a typo can pass.
        before, after = remainder(valid[:body_length]), remainder(changed[:body_length])
        assert before != after and before % 10 == after % 10


@settings(max_examples=300, deadline=None)
@given(body=st.text("0123456789", min_size=10, max_size=10), position=st.integers(0, 11), delta=st.integers(1, 9))
def test_inn12_changed_digit(body, position, delta):
    valid = cs.complete_inn12(body)
    assert cs.check_inn12(valid) is None
    changed = _mutate(valid, position, delta)
    if position >= 10:
        assert cs.check_inn12(changed) == "checksum"


@settings(max_examples=300, deadline=None)
@given(body=st.text("0123456789", min_size=9, max_size=9), position=st.integers(0, 10), delta=st.integers(1, 9))
def test_snils_changed_digit_is_flagged_unless_both_controls_are_00(body, position, delta):
    valid = cs.complete_snils(body)
    changed = _mutate(valid, position, delta)
    if int(body) <= 1001998 or int(changed[:9]) <= 1001998:
        return  # numbers before the rule carry no control number
    if position >= 9:
        assert cs.check_snils(changed) == "checksum"
    elif cs.check_snils(changed) is None:
        assert valid.endswith("00")  # only the 0/100/101 folding can hide a typo in the body


def test_single_digit_typos_are_mostly_caught():
    # Every single-digit substitution of real numbers: the undetected share stays small (the mod-10 folding).
    for _, check, body_length, _ in _SCHEMES:
        for value in ("1047702026701", "1047707030513", "7710474375", "7707329152", "304500116000157"):
            if len(value) != body_length + 1:
                continue
            missed = sum(check(_mutate(value, p, d)) is None for p in range(len(value)) for d in range(1, 10))
            assert missed <= len(value)  # at most ~10 % of the 9 * len(value) typos
