"""Defects the fuzz suite ran into that need a precise reproduction rather than a mutated file."""

from __future__ import annotations

import gc
import weakref

import pytest

from .targets import CTX, _OneResponse, _read


@pytest.mark.fuzz
def test_validation_cache_is_not_keyed_by_a_recycled_fetcher(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """validate() caches whole results under id(fetcher) (trust/validation.py): once a fetcher is freed, a new
    fetcher at the same address -- one that serves a bad OCSP response -- got the old VALID."""
    from signagent.trust.validation import validate

    def run(fetcher: _OneResponse) -> str:
        return validate(_read("head.der"), trust_roots=[_read("root.der")], intermediates=[_read("inter.der")],
                        crls=[_read("crl_root.der")], at=CTX.at, offline=False, revocation="hard",
                        fetcher=fetcher, cache_dir=str(tmp_path)).status  # type: ignore[arg-type]

    bad_response = b"\x30\x03\x0a\x01\x02"  # OCSPResponse{internalError}
    control = _OneResponse(bad_response)
    assert run(control) == "indeterminate"  # no usable revocation data, hard mode
    good = _OneResponse(_read("ocsp_good.der"))
    assert run(good) == "valid"
    address, alive = id(good), weakref.ref(good)
    del good
    gc.collect()
    if alive() is not None:
        return  # the result cache holds the fetcher it was made with: no other fetcher can get its id meanwhile
    others = []  # kept alive so that each try takes a new slot
    for _ in range(100000):
        bad = _OneResponse(bad_response)
        if id(bad) == address:
            break
        others.append(bad)
    else:
        pytest.fail("a freed fetcher's address was never reused: this test cannot show the stale-result defect")
    assert run(bad) == "indeterminate"  # was "valid": the freed fetcher's cached result
