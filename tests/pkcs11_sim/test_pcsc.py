"""The simulator's PC/SC face: the card's APDU answers directly, then the same card through a real ``pcscd`` with
vsmartcard's vpcd driver (pyscard as the client, OpenSC's pkcs15-tool as an independent PKCS#15 reader).

A session fixture starts ``pcscd --foreground`` unless one already answers, and stops it at the end. Every wait is
bounded (a few seconds); a missing pcscd, vpcd, pyscard or OpenSC is a skip on a developer machine and a failure
in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import parser

from pkcs11_sim import constants as C
from pkcs11_sim.cli import main
from pkcs11_sim.engine import Engine
from pkcs11_sim.errors import CkrError
from pkcs11_sim.pcsc.card import ATR, Card
from pkcs11_sim.pcsc.pkcs15 import PKCS15_AID
from pkcs11_sim.pcsc.server import PID_FILE, CardServerError, running, start, stop
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot, TokenStore
from signagent.gost import streebog256, streebog512
from signagent.testpki import generate
from signagent.x509 import load_certificate
from tests.conftest import require

PIN, SO = b"12345678", b"87654321"
READER_CARD, READER_EVENTS = 1, 0  # "Virtual PCD 00 01" serves the main card, "... 00 00" the insert/remove test
WAIT = 5.0  # seconds: the bound of every wait on pcscd


def _sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


# --- a provisioned token, shared by the module ------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("pcsc")
    pki_dir = base / "pki"
    generate(pki_dir)
    root = SimRoot(base / "sim")
    made = provision(root, label="card-head", pin=PIN, so_pin=SO, profile="head", pki_dir=pki_dir)
    other = provision(root, label="card-ip", pin=PIN, so_pin=SO, profile="ip", pki_dir=pki_dir)
    yield {"root": root, "dir": base / "sim", "head": made, "ip": other}
    for store in root.tokens():  # no card server outlives the module, even after a failed test
        stop(store)


@pytest.fixture
def card(sim: dict) -> Card:
    c = Card(sim["head"].store)
    c.reset()
    return c


def tx(c: Card, hex_apdu: str, data: bytes = b"") -> bytes:
    return c.transmit(bytes.fromhex(hex_apdu.replace(" ", "")) + data)


def _short(cla_ins_p1_p2: str, data: bytes, le: int | None = None) -> bytes:
    out = bytes.fromhex(cla_ins_p1_p2) + bytes([len(data)]) + data
    return out if le is None else out + bytes([le & 0xFF])


# --- the card alone ---------------------------------------------------------------------------------------------
def test_atr_names_the_simulator() -> None:
    # TS, T0 (12 historical bytes), TD1 (T=0), TD2 (T=1), historical bytes, TCK making the XOR of T0..TCK zero.
    assert ATR[0] == 0x3B and ATR[1] & 0x0F == 12 and b"pkcs11-sim" in ATR
    check = 0
    for b in ATR[1:]:
        check ^= b
    assert check == 0


def test_status_words(card: Card) -> None:
    assert _sw(tx(card, "00 12 00 00")) == 0x6D00  # unknown INS
    assert _sw(tx(card, "80 A4 04 00")) == 0x6E00  # proprietary class
    assert _sw(tx(card, "00 A4")) == 0x6700  # too short
    assert _sw(tx(card, "00 A4 04 0C 05 A0 00")) == 0x6700  # Lc larger than the data
    assert _sw(tx(card, "00 B0 00 00 00")) == 0x6986  # no current EF
    assert _sw(card.transmit(_short("00A4000C", b"\x12\x34"))) == 0x6A82
    assert _sw(card.transmit(_short("00A4070C", b"\x3f\x00"))) == 0x6B00  # unknown SELECT P1
    assert _sw(card.transmit(_short("00A4040C", b"\xA0\x00\x00\x00\x99"))) == 0x6A82
    assert _sw(card.transmit(_short("00A4080C", PKCS15_AID[:3]))) == 0x6A80  # odd-length path
    # Select the DIR file, read past its end, read with an explicit Le longer than what is left.
    assert _sw(card.transmit(_short("00A4080C", b"\x2f\x00"))) == 0x9000
    size = len(tx(card, "00 B0 00 00 00")) - 2
    assert _sw(tx(card, f"00 B0 00 {size:02X} 10")) == 0x6B00
    assert tx(card, f"00 B0 00 {size - 2:02X} 10")[-2:] == b"\x62\x82"
    whole = tx(card, "00 B0 00 00 00 00 00")  # extended Le = 0000: up to 65536 bytes
    assert len(whole) == size + 2 and whole[-2:] == b"\x90\x00"
    assert _sw(tx(card, "00 20 00 02 00")) == 0x6A88  # no PIN with reference 02
    assert _sw(card.transmit(_short("0022 41A4", b"\x84\x01\x01"))) == 0x6B00  # only the DST
    assert _sw(tx(card, "00 2A 80 86 00")) == 0x6B00  # PSO other than COMPUTE DIGITAL SIGNATURE
    assert _sw(tx(card, "00 C0 00 00 00")) == 0x6985  # GET RESPONSE with nothing pending


def test_select_returns_fcp_and_get_response_delivers_the_rest(card: Card) -> None:
    full = card.transmit(_short("00A40404", PKCS15_AID, 0))
    assert full[-2:] == b"\x90\x00" and full[0] == 0x62 and PKCS15_AID in full  # FCP with the DF name '84'
    part = card.transmit(_short("00A40404", PKCS15_AID, 8))
    assert part[:8] == full[:8] and part[-2] == 0x61 and part[-1] == len(full) - 2 - 8
    rest = tx(card, f"00 C0 00 00 {part[-1]:02X}")
    assert part[:8] + rest[:-2] == full[:-2] and rest[-2:] == b"\x90\x00"


def test_signing_needs_a_key_and_the_pin(card: Card, sim: dict) -> None:
    made = sim["head"]
    digest = streebog256(b"challenge").digest()
    assert _sw(card.transmit(_short("002A9E9A", digest, 0))) == 0x6985  # no key in the environment
    assert _sw(card.transmit(_short("002241B6", b"\x84\x02\xde\xad"))) == 0x6A88  # unknown key reference
    assert _sw(card.transmit(_short("002241B6", b"\x84\x05\x01"))) == 0x6A80  # malformed CRT
    assert _sw(card.transmit(_short("002241B6", b"\x84" + bytes([len(made.key_id)]) + made.key_id))) == 0x9000
    assert _sw(card.transmit(_short("002A9E9A", digest, 0))) == 0x6982  # PIN not verified
    assert _sw(card.transmit(_short("00200001", PIN))) == 0x9000
    assert _sw(card.transmit(_short("002A9E9A", digest[:20], 0))) == 0x6700  # not a 32-byte digest
    signature = card.transmit(_short("002A9E9A", digest, 0))
    assert _sw(signature) == 0x9000 and len(signature) == 66
    cert = load_certificate(made.certificate.read_bytes())
    assert cert.public_key().verify_digest(digest, signature[:-2])
    card.reset()  # power cycle: the verification is gone
    assert _sw(card.transmit(_short("002241B6", b"\x84\x01\x01"))) == 0x9000  # the first private key, by number
    assert _sw(card.transmit(_short("002A9E9A", digest, 0))) == 0x6982
    assert _sw(tx(card, "00 20 00 01")) == 0x63CA  # query: 10 tries, not verified


def test_card_server_errors_are_one_line(sim: dict, capsys: pytest.CaptureFixture[str]) -> None:
    store: TokenStore = sim["ip"].store
    cli = ["--dir", str(sim["dir"])]
    assert main([*cli, "insert", "card-ip", "--reader", "1"]) == 2  # --reader without --pcsc
    assert "--reader goes with --pcsc" in capsys.readouterr().err
    # Reader 9 has no vpcd behind it (Debian configures two): the server gives up after its connect grace.
    began = time.monotonic()
    assert main([*cli, "insert", "card-ip", "--pcsc", "--reader", "9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no vpcd on 127.0.0.1:35972" in err and "pcscd" in err
    assert time.monotonic() - began < WAIT and running(store) is None
    store.set_present(False)
    with pytest.raises(CardServerError, match="removed"):
        start(store, 0)
    store.set_present(True)


# --- pcscd ------------------------------------------------------------------------------------------------------
def _pcscd_answers() -> bool:
    from smartcard import scard

    if not Path("/run/pcscd/pcscd.comm").exists():
        return False
    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != scard.SCARD_S_SUCCESS:
        return False
    scard.SCardReleaseContext(ctx)
    return True


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A pcscd with the vpcd readers: the running one, else one started here and stopped at the end."""
    try:
        import smartcard  # noqa: F401
    except ImportError:
        require(False, "pyscard")
    require(shutil.which("pcscd"), "pcscd (Debian package pcscd)")
    require(Path("/etc/reader.conf.d/vpcd").is_file(), "vsmartcard-vpcd (/etc/reader.conf.d/vpcd)")
    if _pcscd_answers():
        yield
        return
    log = tmp_path_factory.mktemp("pcscd") / "pcscd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["pcscd", "--foreground", "--debug"], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT
        while b"daemon ready" not in log.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        require(b"daemon ready" in log.read_bytes(), f"a running pcscd: {log.read_text(errors='replace')[-500:]}")
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(WAIT)


def _reader_name(n: int) -> str:
    return f"Virtual PCD 00 {n:02d}"


def _wait_state(reader: str, want_present: bool, timeout: float = WAIT) -> tuple[float, bytes]:
    """Block on SCardGetStatusChange until the card in ``reader`` is present/absent; (seconds, ATR)."""
    from smartcard import scard

    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rv == scard.SCARD_S_SUCCESS
    try:
        start_t = time.monotonic()
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = timeout - (time.monotonic() - start_t)
            assert left > 0, f"{reader}: card never became {'present' if want_present else 'absent'}"
            rv, states = scard.SCardGetStatusChange(ctx, int(left * 1000), [(reader, state)])
            assert rv in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT), scard.SCardGetErrorMessage(rv)
            _, event, atr = states[0]
            if bool(event & scard.SCARD_STATE_PRESENT) == want_present:
                return time.monotonic() - start_t, bytes(atr)
            state = event & ~scard.SCARD_STATE_CHANGED
    finally:
        scard.SCardReleaseContext(ctx)


@pytest.fixture(scope="module")
def served(pcscd: None, sim: dict) -> Iterator[TokenStore]:
    """The head token as a card in reader 1, through the CLI; removed at the end."""
    store = sim["head"].store
    assert main(["--dir", str(sim["dir"]), "insert", "card-head", "--pcsc", "--reader", str(READER_CARD)]) == 0
    _wait_state(_reader_name(READER_CARD), True)
    yield store
    main(["--dir", str(sim["dir"]), "remove", "card-head"])
    store.set_present(True)


@pytest.fixture
def connection(served: TokenStore):
    from smartcard.System import readers

    (reader,) = [r for r in readers() if str(r) == _reader_name(READER_CARD)]
    conn = reader.createConnection()
    conn.connect()
    yield conn
    conn.disconnect()


def send(conn, apdu: bytes) -> tuple[bytes, int]:
    data, sw1, sw2 = conn.transmit(list(apdu))
    return bytes(data), (sw1 << 8) | sw2


def read_file(conn, path: bytes) -> bytes:
    """SELECT by path from the MF, then READ BINARY by offset, 256 bytes at a time (Le = 00)."""
    _, sw = send(conn, _short("00A4080C", path))
    assert sw == 0x9000, f"SELECT {path.hex()}: {sw:04X}"
    out = b""
    while True:
        chunk, sw = send(conn, bytes([0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, 0x00]))
        if sw == 0x6B00:  # offset at the end of the file
            return out
        assert sw == 0x9000, f"READ BINARY at {len(out)}: {sw:04X}"
        out += chunk
        if len(chunk) < 256:
            return out


def _tlv(data: bytes) -> list[tuple[int, int, bytes]]:
    """(class, tag, contents) of each top-level BER value in ``data`` (asn1crypto's generic parser only)."""
    out, pointer = [], 0
    while pointer < len(data):
        cls, _method, tag, _header, contents, _trailer = parser.parse(data[pointer:], strict=False)
        pointer += parser.peek(data[pointer:])
        out.append((cls, tag, contents))
    return out


def test_reader_and_atr_seen_by_pyscard(connection) -> None:
    from smartcard.System import readers

    assert {_reader_name(0), _reader_name(1)} <= {str(r) for r in readers()}
    assert bytes(connection.getATR()) == ATR


def test_certificate_read_through_pkcs15(connection, sim: dict) -> None:
    made = sim["head"]
    # EF.DIR names the application and its path; SELECT by AID reaches it.
    ((cls, tag, template),) = _tlv(read_file(connection, b"\x2f\x00"))
    assert (cls, tag) == (1, 1)  # [APPLICATION 1]
    fields = {t: v for _, t, v in _tlv(template)}
    assert fields[15] == PKCS15_AID and fields[17] == b"\x3f\x00\x50\x15"
    _, sw = send(connection, _short("00A4040C", PKCS15_AID))
    assert sw == 0x9000
    # EF.ODF -> certificates [4] -> path of EF.CDF.
    odf = _tlv(read_file(connection, b"\x50\x15\x50\x31"))
    ((_, _, path_or_objects),) = [(c, t, v) for c, t, v in odf if (c, t) == (2, 4)]
    ((_, _, path_seq),) = _tlv(path_or_objects)
    cdf_path = _tlv(path_seq)[0][2]
    assert cdf_path[:2] == b"\x3f\x00"
    # EF.CDF: one CertificateObject {CommonObjectAttributes, CommonCertificateAttributes, [1] X509 attributes}.
    entries = _tlv(read_file(connection, cdf_path[2:]))
    assert len(entries) == 1
    common, cert_attrs, *rest = _tlv(entries[0][2])
    assert _tlv(common[2])[0][2].decode() == made.entity  # label
    assert _tlv(cert_attrs[2])[0][2] == made.key_id  # iD = CKA_ID
    (typed,) = [v for c, t, v in rest if (c, t) == (2, 1)]
    (x509_attrs,) = _tlv(typed)
    value_path = _tlv(_tlv(x509_attrs[2])[0][2])[0][2]
    der = read_file(connection, value_path[2:])
    assert len(der) > 256  # several READ BINARY commands at increasing offsets
    cert = load_certificate(der)
    assert cert.der == made.certificate.read_bytes()
    # EF.TokenInfo: version 0, the token's serial, manufacturer, label [0].
    ((_, _, info),) = _tlv(read_file(connection, b"\x50\x15\x50\x32"))
    version, serial, manufacturer, label, _flags = _tlv(info)
    assert version[2] == b"\x00" and serial[2].hex().upper() == made.store.serial
    assert manufacturer[2] == b"signagent" and (label[0], label[1], label[2]) == (2, 0, b"card-head")


def test_verify_shares_the_retry_counter_with_pkcs11(connection, sim: dict) -> None:
    store: TokenStore = sim["head"].store
    full = store.pin_status("user")["max_tries"]
    assert send(connection, bytes.fromhex("0020000100"))[1] == 0x63C0 | full
    assert send(connection, _short("00200001", b"wrong-pin"))[1] == 0x63C0 | (full - 1)
    assert send(connection, _short("00200001", b"wrong-again"))[1] == 0x63C0 | (full - 2)
    assert store.pin_status("user")["tries_left"] == full - 2
    # The PKCS#11 face counts down the same counter, and the card reports it.
    engine = Engine(sim["dir"])
    engine.initialize()
    try:
        session = engine.open_session(store.slot_id, C.CKF_SERIAL_SESSION)
        with pytest.raises(CkrError) as err:
            engine.login(session, C.CKU_USER, b"wrong-pkcs11")
        assert err.value.rv == C.CKR_PIN_INCORRECT
        assert send(connection, bytes.fromhex("0020000100"))[1] == 0x63C0 | (full - 3)
        assert send(connection, _short("00200001", PIN))[1] == 0x9000
        assert store.pin_status("user")["tries_left"] == full
        assert send(connection, bytes.fromhex("0020000100"))[1] == 0x9000  # verified in this card session
        # Locked on the token: the card says 6983 even for the right PIN; an SO unblock brings it back.
        store.lock_pin("user")
        assert engine.get_token_info(store.slot_id)["flags"] & C.CKF_USER_PIN_LOCKED
        connection.reconnect()  # warm reset: the verification is gone
        assert send(connection, bytes.fromhex("0020000100"))[1] == 0x6983
        assert send(connection, _short("00200001", PIN))[1] == 0x6983
    finally:
        store.unblock(SO, PIN)
        engine.finalize()
    assert send(connection, _short("00200001", PIN))[1] == 0x9000


def _sign_with_apdus(conn, made, digest: bytes) -> bytes:
    assert send(conn, _short("002241B6", b"\x84" + bytes([len(made.key_id)]) + made.key_id))[1] == 0x9000
    assert send(conn, _short("002A9E9A", digest, 0))[1] == 0x6982  # PIN not verified yet
    assert send(conn, _short("00200001", PIN))[1] == 0x9000
    signature, sw = send(conn, _short("002A9E9A", digest, 0))
    assert sw == 0x9000
    conn.reconnect()  # warm reset: PSO needs the PIN again
    assert send(conn, _short("002241B6", b"\x84\x01\x01"))[1] == 0x9000
    assert send(conn, _short("002A9E9A", digest, 0))[1] == 0x6982
    return signature


@pytest.mark.parametrize("entity", ["head", "ip"])
def test_signature_made_with_apdus_verifies(served: TokenStore, sim: dict, entity: str) -> None:
    from smartcard.System import readers

    made = sim[entity]
    cert = load_certificate(made.certificate.read_bytes())
    size = cert.public_key().curve.size
    hasher = streebog256 if size == 32 else streebog512
    digest = hasher(b"head registration request").digest()
    number = READER_CARD
    if entity != "head":  # the second token goes into the other reader for this test
        number = READER_EVENTS
        start(made.store, number, others=sim["root"].tokens())
    try:
        _wait_state(_reader_name(number), True)
        (reader,) = [r for r in readers() if str(r) == _reader_name(number)]
        conn = reader.createConnection()
        conn.connect()
        try:
            signature = _sign_with_apdus(conn, made, digest)
        finally:
            conn.disconnect()
    finally:
        if entity != "head":
            assert main(["--dir", str(sim["dir"]), "remove", made.store.label]) == 0
            made.store.set_present(True)
            _wait_state(_reader_name(number), False)
    assert len(signature) == 2 * size
    assert cert.public_key().verify_digest(digest, signature)
    assert not cert.public_key().verify_digest(hasher(b"another request").digest(), signature)


def test_insertion_and_removal_events(pcscd: None, sim: dict, capsys: pytest.CaptureFixture[str]) -> None:
    store: TokenStore = sim["ip"].store
    reader = _reader_name(READER_EVENTS)
    cli = ["--dir", str(sim["dir"])]
    _wait_state(reader, False)
    assert main([*cli, "insert", "card-ip", "--pcsc", "--reader", str(READER_EVENTS)]) == 0
    pid, number = running(store)
    assert number == READER_EVENTS and (store.path / PID_FILE).is_file()
    _, atr = _wait_state(reader, True)
    assert atr == ATR
    # A second server for the same token, or another token in the same reader, is refused.
    assert main([*cli, "insert", "card-ip", "--pcsc", "--reader", "1"]) == 2
    assert "already served" in capsys.readouterr().err
    root: SimRoot = sim["root"]
    spare = root.create("card-spare", SO, PIN)
    with pytest.raises(CardServerError, match="already holds the card of 'card-ip'"):
        start(spare, READER_EVENTS, others=root.tokens())
    root.delete("card-spare")
    # `pkcs11-sim remove` stops the server: pcscd sees the card go.
    assert main([*cli, "remove", "card-ip"]) == 0
    assert "PC/SC card removed" in capsys.readouterr().out
    seconds, _ = _wait_state(reader, False)
    assert running(store) is None and not _process_alive(pid)
    assert store.load()["present"] is False
    # Removal in the store alone (another process's `remove`, or the PKCS#11 side's tooling) also ends the card.
    assert main([*cli, "insert", "card-ip", "--pcsc", "--reader", str(READER_EVENTS)]) == 0
    pid, _ = running(store)
    _wait_state(reader, True)
    store.set_present(False)
    _wait_state(reader, False)
    deadline = time.monotonic() + WAIT
    while _process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _process_alive(pid) and not (store.path / PID_FILE).exists()
    store.set_present(True)
    assert seconds < WAIT


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_opensc_reads_the_pkcs15_application(served: TokenStore, sim: dict, tmp_path: Path) -> None:
    """OpenSC's default card driver and PKCS#15 parser, independently of our code, list the token's contents.

    (OpenSC 0.23 cannot parse a GOST R 34.10-2012 public key, so it lists the certificate but does not decode it.)
    """
    tool = shutil.which("pkcs15-tool")
    require(tool, "OpenSC pkcs15-tool (Debian package opensc)")
    conf = tmp_path / "opensc.conf"
    conf.write_text("app default {\n  enable_default_driver = true;\n  card_drivers = default;\n}\n")
    env = {**os.environ, "OPENSC_CONF": str(conf)}
    made = sim["head"]
    done = subprocess.run([tool, "--reader", _reader_name(READER_CARD), "--list-info", "--list-certificates"],
                          capture_output=True, text=True, timeout=20, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "PKCS#15 Card [card-head]" in out and "Manufacturer ID: signagent" in out
    assert f"Serial number  : {made.store.serial.lower()}" in out
    assert f"X.509 Certificate [{made.entity}]" in out
    assert f"ID             : {made.key_id.hex()}" in out and "Path           : 3f0050154701" in out
