"""Structure-aware mutations as hypothesis strategies: DER/BER trees, XML documents, JSON documents.

Every strategy draws a seed name from a corpus and one to three mutations, and returns a :class:`Mutant`
(seed name, mutated bytes, a readable description of what was done). The draws are plain hypothesis draws, so a
fixed profile (``derandomize=True``) gives the same inputs on every run.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from . import ber

# ------------------------------------------------------------------------------------------------- vocabulary

HUGE_INT = 10**4999 + 7  # 5,000 decimal digits: beyond Python's 4,300-digit str() limit
HUGE_INT_BYTES = HUGE_INT.to_bytes((HUGE_INT.bit_length() + 8) // 8, "big")

INTEGERS = [b"", b"\x00", b"\x00\x00", b"\x00\x01", b"\xff", b"\x80", b"\xff\x7f", b"\x7f" + b"\xff" * 31,
            b"\x01" + b"\x00" * 64, HUGE_INT_BYTES, b"\x80" + b"\x00" * 600]

OIDS = ["2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17", "2.5.29.18", "2.5.29.32", "2.5.29.31", "2.5.29.30",
        "2.5.29.36", "2.5.29.35", "2.5.29.14", "2.5.29.16", "2.5.29.54", "1.3.6.1.5.5.7.1.1",
        "1.2.643.100.111", "1.2.643.100.112", "1.2.643.100.113.1", "1.2.643.100.114", "1.2.643.100.1",
        "1.2.643.3.131.1.1", "1.2.643.100.3", "1.2.643.100.4", "2.5.4.3", "2.5.4.4", "2.5.4.42",
        "1.2.643.7.1.1.1.1", "1.2.643.7.1.1.1.2", "1.2.643.7.1.1.3.2", "1.2.643.7.1.1.3.3", "1.2.643.7.1.1.2.2",
        "1.2.643.7.1.1.2.3", "1.2.643.2.2.19", "1.2.643.2.2.3", "1.2.643.2.2.9", "1.2.643.7.1.2.1.1.1",
        "1.2.643.7.1.2.1.2.1", "1.2.643.2.2.35.1", "1.2.643.2.2.36.0", "1.2.840.113549.1.1.11",
        "1.2.840.113549.1.1.1", "1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.113549.1.9.3",
        "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5", "1.2.840.113549.1.9.16.2.47",
        "1.2.840.113549.1.9.16.2.12", "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.2", "1.2.840.113549.1.5.13",
        "1.2.840.113549.1.5.12", "1.2.643.7.1.1.4.2", "1.2.643.2.2.21", "1.2.643.2.2.31.1", "1.2.840.113549.1.9.14",
        "1.2.643." + "1" * 60]


def _oid_content(dotted: str) -> bytes:
    from tests import der
    return ber.parse(der.oid(dotted)).value


OID_CONTENTS = [_oid_content(o) for o in OIDS] + [b"", b"\x80", b"\x2a\x80\x01", b"\x2a" + b"\xff" * 40 + b"\x01",
                                                   b"\x88\x37\x01", b"\x7f", b"\x2a\x86"]

PRIMITIVES: dict[int, list[bytes]] = {
    0x01: [b"", b"\x01", b"\x00\x00", b"\xff", b"\x00"],
    0x02: INTEGERS,
    0x03: [b"", b"\x08", b"\x07", b"\x01\xff", b"\x00", b"\x09\x00", b"\x00" + b"\xff" * 300],
    0x05: [b"\x00", b"\x00" * 4],
    0x06: OID_CONTENTS,
    0x0A: INTEGERS[:6],
    0x0C: [b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00", b"A" * 70000, "Иванов\u202eИван".encode(),
           b"\xf4\x90\x80\x80", b"\r\nX: y", b"%s%n{0}{name}"],
    0x12: [b"12ab", b"\xff", b"1" * 5000],
    0x13: [b"\xff", b"<>@", b"\x00", b"Z" * 70000],
    0x14: [b"\xff\x00", b"\x1b(B"],
    0x16: [b"\x80\xff", b"http://", b"http://127.0.0.1:1/\xff", b"file:///dev/zero", b"ldap://x/" + b"a" * 5000],
    0x17: [b"", b"991301000000Z", b"500101000000Z", b"491231235959Z", b"0000000000Z", b"261301250000+0300",
           b"9912312359", b"\xff" * 13, b"261203160000-2400", b"26120316000"],
    0x18: [b"99991231235959Z", b"00000101000000Z", b"20261231235959.99999999999Z", b"1Z", b"20261301000000Z",
           b"202612031600Z", b"+0000101000000Z", b"20261203160000", b"1" * 5000 + b"Z"],
    0x1A: [b"\xff", b"\x00"],
    0x1C: [b"\x00\x00", b"\x00\x00\xd8\x00", b"\x00"],
    0x1E: [b"\x04", b"\xd8\x00", b"\xdc\x00\x00\x41", b"\x00"],
}
ANY_PRIMITIVE = [b"", b"\x00", b"\xff" * 3, b"\x30\x80", b"\x30\x00", b"\x05\x00", b"\x00" * 1000]
TAGS = [b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x0a", b"\x0c", b"\x12", b"\x13", b"\x14", b"\x16",
        b"\x17", b"\x18", b"\x1a", b"\x1c", b"\x1e", b"\x30", b"\x31", b"\x80", b"\x81", b"\x82", b"\x86", b"\x88",
        b"\xa0", b"\xa1", b"\xa3", b"\x24", b"\x23", b"\x00", b"\x1f\x81\x01", b"\x3f\x22", b"\xff"]
JUNK = [b"\x00", b"\x05\x00", b"\x00\x00", b"\x30\x00", b"\x02\x01\x00", b"\xff", b"\x04\x02AB", b"\x30\x80\x00\x00",
        b"\x01\x01\xff", b"\x0c\x02\xc3\x28"]
NEST_DEPTHS = [2, 3, 40, 500, 5000]
COPIES = [2, 3, 50, 2000]


MAX_INPUT = 4 << 20  # a mutation that would make the input larger than this is not applied


def _group_orders() -> list[int]:
    from signagent.gost import curve

    orders = set()
    for oid in ("1.2.643.7.1.2.1.1.1", "1.2.643.7.1.2.1.1.2", "1.2.643.7.1.2.1.1.3", "1.2.643.7.1.2.1.1.4",
                "1.2.643.7.1.2.1.2.1", "1.2.643.7.1.2.1.2.2", "1.2.643.7.1.2.1.2.3", "1.2.643.2.2.35.1",
                "1.2.643.2.2.35.2", "1.2.643.2.2.35.3"):
        orders.add(curve(oid).q)
    return sorted(orders)


GROUP_ORDERS = _group_orders()  # q of every GOST curve: s+q, r+q, 0 and q probe the verifier's range checks


@dataclass(frozen=True)
class Mutant:
    seed: str
    data: bytes
    ops: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.seed}: {'; '.join(self.ops)}"


# ------------------------------------------------------------------------------------------------- DER / BER


def _bounded(result: tuple[bytes, str], before: bytes) -> tuple[bytes, str]:
    data, what = result
    if len(data) > MAX_INPUT:
        return before, f"(skipped, {len(data)} bytes: {what})"
    return data, what


def _index(root: ber.Node) -> list[tuple[ber.Node, ber.Node | None, int]]:
    """(node, parent, position in parent) in pre-order."""
    out: list[tuple[ber.Node, ber.Node | None, int]] = []
    stack: list[tuple[ber.Node, ber.Node | None, int]] = [(root, None, 0)]
    while stack:
        node, parent, i = stack.pop()
        out.append((node, parent, i))
        for j in range(len(node.children) - 1, -1, -1):
            stack.append((node.children[j], node, j))
    return out


def _nest(encoded: bytes, depth: int, tag: int = 0x30) -> bytes:
    for _ in range(depth):
        encoded = ber.tlv(tag, encoded)
    return encoded


def _byte_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["flip", "truncate", "append", "insert", "delete", "prefix"]))
    n = len(data)
    if kind == "flip" or n == 0:
        pos = draw(st.integers(0, max(n - 1, 0)))
        x = draw(st.integers(1, 255))
        if n == 0:
            return b"\x00", "flip empty"
        return data[:pos] + bytes([data[pos] ^ x]) + data[pos + 1 :], f"byte flip at {pos} xor {x:#x}"
    if kind == "truncate":
        pos = draw(st.integers(0, n - 1))
        return data[:pos], f"truncate to {pos}"
    if kind == "append":
        junk = draw(st.sampled_from([*JUNK, b"\x00" * 100, data[:50]]))
        return data + junk, f"append {junk[:8].hex()}.. ({len(junk)})"
    if kind == "insert":
        pos = draw(st.integers(0, n))
        junk = draw(st.binary(min_size=1, max_size=8))
        return data[:pos] + junk + data[pos:], f"insert {junk.hex()} at {pos}"
    if kind == "delete":
        pos = draw(st.integers(0, n - 1))
        k = draw(st.integers(1, 16))
        return data[:pos] + data[pos + k :], f"delete {k} at {pos}"
    junk = draw(st.sampled_from(JUNK))
    return junk + data, f"prefix {junk.hex()}"


def _tree_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    try:
        root = ber.parse_nested(data)
    except (ber.BerError, IndexError, RecursionError):
        return _byte_op(draw, data)
    nodes = _index(root)
    index = draw(st.integers(0, len(nodes) - 1))
    node, parent, pos = nodes[index]
    where = f"node#{index} tag {node.tag.hex() or 'raw'}"
    kind = draw(st.sampled_from(["flip", "flip", "insert", "delete", "length", "length", "dup", "drop", "append",
                                 "swap", "wrap", "nest", "tag", "int", "prim", "prim", "trail", "splice", "copies",
                                 "malleate"]))
    if kind == "malleate":
        return _malleate(draw, root, nodes)
    content = node.content() if node.constructed else node.value
    if kind == "flip":
        if not content:
            kind = "trail"
        else:
            i = draw(st.integers(0, len(content) - 1))
            x = draw(st.integers(1, 255))
            mutated = content[:i] + bytes([content[i] ^ x]) + content[i + 1 :]
            _set_content(node, mutated)
            return root.encode(), f"{where}: flip content byte {i} xor {x:#x}"
    if kind == "insert":
        i = draw(st.integers(0, len(content)))
        junk = draw(st.one_of(st.sampled_from(JUNK), st.binary(min_size=1, max_size=6)))
        _set_content(node, content[:i] + junk + content[i:])
        return root.encode(), f"{where}: insert {junk.hex()} at content {i}"
    if kind == "delete" and content:
        i = draw(st.integers(0, len(content) - 1))
        k = draw(st.integers(1, 8))
        _set_content(node, content[:i] + content[i + k :])
        return root.encode(), f"{where}: delete {k} content bytes at {i}"
    if kind == "length":
        n = len(node.content())
        forms = {
            "longer": ber.encode_length(n + 1), "shorter": ber.encode_length(max(n - 1, 0)),
            "much-longer": ber.encode_length(n + 1000), "zero": b"\x00", "indefinite-no-eoc": b"\x80",
            # long forms with more octets than needed (encode_length grows them when the length needs more)
            "non-minimal-81": ber.encode_length(n, 1), "non-minimal-82": ber.encode_length(n, 2),
            "non-minimal-84": ber.encode_length(n, 4), "huge": b"\x84\xff\xff\xff\xff",
            "eight-octets": b"\x88" + n.to_bytes(8, "big"), "reserved": b"\xff", "long-zero-octets": b"\x80",
        }
        name = draw(st.sampled_from(sorted(forms)))
        node.raw_length = forms[name]
        if name == "long-zero-octets" or (name == "indefinite-no-eoc" and draw(st.booleans())):
            node.trailer += b"\x00\x00"
            name = "indefinite+eoc"
        return root.encode(), f"{where}: length {name}"
    if kind in ("dup", "drop", "swap", "copies") and parent is not None:
        if kind == "dup":
            parent.children.insert(pos + 1, node)
            return root.encode(), f"{where}: duplicate"
        if kind == "copies":
            k = draw(st.sampled_from(COPIES))
            for _ in range(k - 1):
                parent.children.insert(pos + 1, node)
            return root.encode(), f"{where}: {k} copies"
        if kind == "drop":
            del parent.children[pos]
            return root.encode(), f"{where}: drop"
        if len(parent.children) > 1:
            j = draw(st.integers(0, len(parent.children) - 1))
            parent.children[pos], parent.children[j] = parent.children[j], parent.children[pos]
            return root.encode(), f"{where}: swap with sibling {j}"
    if kind == "append" and node.constructed:
        other = nodes[draw(st.integers(0, len(nodes) - 1))][0]
        extra = draw(st.one_of(st.just(other.encode()), st.sampled_from(JUNK)))
        node.children.append(ber.Node(b"", False, value=extra))
        return root.encode(), f"{where}: append element {extra[:6].hex()}..({len(extra)})"
    if kind == "wrap" and node.tag:
        tag = draw(st.sampled_from([0x30, 0x31, 0xA0, 0x04, 0x03]))
        inner = (b"\x00" if tag == 0x03 else b"") + node.encode()
        _replace(node, ber.tlv(tag, inner))
        return root.encode(), f"{where}: wrap in {tag:#x}"
    if kind == "nest" and node.tag:
        depth = draw(st.sampled_from(NEST_DEPTHS))
        _replace(node, _nest(node.encode(), depth))
        return root.encode(), f"{where}: nest {depth} levels"
    if kind == "tag" and node.tag:
        tag = draw(st.sampled_from(TAGS))
        flip_constructed = draw(st.booleans())
        if flip_constructed and len(tag) == 1:
            tag = bytes([tag[0] ^ 0x20])
        node.tag = tag
        return root.encode(), f"{where}: tag -> {tag.hex()}"
    if kind == "int":
        value = draw(st.sampled_from(INTEGERS))
        _set_content(node, value)
        if node.tag:
            node.tag = b"\x02"
        return root.encode(), f"{where}: integer content {value[:4].hex()}..({len(value)})"
    if kind == "prim" and not node.constructed:
        choices = PRIMITIVES.get(node.tag[0] if node.tag else -1, []) + ANY_PRIMITIVE
        value = draw(st.sampled_from(choices))
        _set_content(node, value)
        return root.encode(), f"{where}: content {value[:8].hex()}..({len(value)})"
    if kind == "splice":
        other = nodes[draw(st.integers(0, len(nodes) - 1))][0]
        _replace(node, other.encode())
        return root.encode(), f"{where}: replaced by another node ({len(other.encode())} bytes)"
    junk = draw(st.sampled_from(JUNK))
    node.trailer += junk
    return root.encode(), f"{where}: trailing {junk.hex()} inside"


def _malleate(draw: Callable, root: ber.Node, nodes: list) -> tuple[bytes, str]:
    """Change one half of a GOST signature value (s||r, big-endian) to s+q, r+q, 0 or q for some curve's q."""
    candidates = [n for n, _, _ in nodes if not n.constructed and n.tag in (b"\x03", b"\x04")
                  and len(n.value) - (n.tag == b"\x03") in (64, 128)]
    if not candidates:
        return root.encode(), "malleate: no signature value"
    node = candidates[draw(st.integers(0, len(candidates) - 1))]
    prefix, sig = (node.value[:1], node.value[1:]) if node.tag == b"\x03" else (b"", node.value)
    half = len(sig) // 2
    which = draw(st.sampled_from(["s", "r"]))
    q = draw(st.sampled_from([q for q in GROUP_ORDERS if q.bit_length() <= half * 8]))
    s_, r_ = int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big")
    how = draw(st.sampled_from(["+q", "zero", "q", "q-1"]))
    value = {"+q": (s_ if which == "s" else r_) + q, "zero": 0, "q": q, "q-1": q - 1}[how]
    if value >= 1 << (half * 8):
        return root.encode(), f"malleate: {which}{how} does not fit"
    new = value.to_bytes(half, "big")
    node.value = prefix + (new + sig[half:] if which == "s" else sig[:half] + new)
    return root.encode(), f"malleate signature: {which} := {which}{how} (q of {q.bit_length()} bits)"


def _set_content(node: ber.Node, content: bytes) -> None:
    """Replace what is inside the node's TLV (its header keeps its tag; the length follows the content)."""
    node.trailer = b""
    if node.constructed:
        node.children = [ber.Node(b"", False, value=content)]
        node.value = b""
    else:
        node.value = content


def _replace(node: ber.Node, encoded: bytes) -> None:
    """Make ``node`` write ``encoded`` in its place."""
    node.tag = b""
    node.constructed = False
    node.children = []
    node.value = encoded
    node.trailer = b""
    node.raw_length = None
    node.indefinite = False


@st.composite
def der_mutants(draw: Callable, seeds: dict[str, bytes], max_ops: int = 3) -> Mutant:
    name = draw(st.sampled_from(sorted(seeds)))
    data = seeds[name]
    ops = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, max_ops]))):
        op = _tree_op if draw(st.integers(0, 9)) < 8 else _byte_op
        data, what = _bounded(op(draw, data), data)
        ops.append(what)
    return Mutant(name, data, tuple(ops))


# ------------------------------------------------------------------------------------------------- XML

XML_ENCODINGS = ["UTF-16", "KOI8-R", "windows-1251", "x-unknown-enc", "utf-7", "UTF-32", "ISO-8859-5", "latin-1",
                 "ebcdic-cp-us", "", "UTF-8\x00", "cp1252", "utf-16-le", "ASCII"]
XML_DOCTYPES = [
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///dev/zero">]>',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">',
    b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>',
    b"<!DOCTYPE r>",
]


def _xml_tree_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    try:
        return _xml_tree_op_inner(draw, data)
    except RecursionError:  # ElementTree serialises recursively: a mutant nested 100,000 deep stays as it is
        return _xml_text_op(draw, data)


def _xml_tree_op_inner(draw: Callable, data: bytes) -> tuple[bytes, str]:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # the mutator itself never expands entities
        return _xml_text_op(draw, data)
    try:
        root = ET.fromstring(data)  # noqa: S314  (our own seeds and mutants, DOCTYPE-free: see above)
    except (ET.ParseError, ValueError, LookupError, RecursionError):
        return _xml_text_op(draw, data)
    elements = list(root.iter())
    parents = {child: parent for parent in root.iter() for child in parent}
    el = elements[draw(st.integers(0, len(elements) - 1))]
    where = f"<{el.tag}>#{elements.index(el)}"
    kind = draw(st.sampled_from(["dup", "nest", "text", "text", "delete", "rename", "attrs", "children"]))
    parent = parents.get(el)
    if kind == "dup" and parent is not None:
        k = draw(st.sampled_from([2, 100, 5000]))
        i = list(parent).index(el)
        for _ in range(k - 1):
            parent.insert(i, el)
        return ET.tostring(root, encoding="utf-8"), f"{where}: {k} copies"
    if kind == "nest":
        k = draw(st.sampled_from([33, 1000, 100000]))
        tag = draw(st.sampled_from(["a", el.tag]))
        inner = ET.tostring(el, encoding="unicode")
        text = "".join(f"<{tag}>" for _ in range(k)) + inner + "".join(f"</{tag}>" for _ in range(k))
        whole = ET.tostring(root, encoding="unicode").replace(inner, text, 1)
        return whole.encode(), f"{where}: nest {k} levels of <{tag}>"
    if kind == "text":
        value = draw(st.sampled_from(["", " ", "A" * (1 << 20) + "A", "!!notbase64!!", "MIIB", "AAAA" * 10,
                                      "Недействует", "ДЕЙСТВУЕТ", "-1", "9" * 5000, "00" * 20, "\ud7ff\ue000",
                                      "MAA=", "MIAAAA==", "x" * 100]))
        el.text = value
        return ET.tostring(root, encoding="utf-8"), f"{where}: text {value[:12]!r}..({len(value)})"
    if kind == "delete" and parent is not None:
        parent.remove(el)
        return ET.tostring(root, encoding="utf-8"), f"{where}: delete"
    if kind == "rename":
        el.tag = draw(st.sampled_from(["x", "{urn:x}" + el.tag, el.tag.upper(), "УдостоверяющийЦентр", "Данные"]))
        return ET.tostring(root, encoding="utf-8"), f"{where}: rename to {el.tag}"
    if kind == "attrs":
        k = draw(st.sampled_from([1, 1000, 20000]))
        for i in range(k):
            el.set(f"a{i}", "v")
        return ET.tostring(root, encoding="utf-8"), f"{where}: {k} attributes"
    k = draw(st.sampled_from([1, 1000, 100000]))
    for _ in range(k):
        ET.SubElement(el, draw(st.sampled_from(["Ключ", "УдостоверяющийЦентр", "x"])))
    return ET.tostring(root, encoding="utf-8"), f"{where}: {k} new children"


def _xml_text_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["encoding", "recode", "doctype", "doctype", "pi", "bom", "bytes", "bytes",
                                 "nul", "cdata"]))
    decl = re.match(rb"<\?xml[^>]*\?>\s*", data)
    body = data[decl.end():] if decl else data
    if kind == "encoding":
        enc = draw(st.sampled_from(XML_ENCODINGS))
        return f'<?xml version="1.0" encoding="{enc}"?>\n'.encode() + body, f"declared encoding {enc!r}"
    if kind == "recode":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "cp1251", "koi8-r"]))
        declared = draw(st.sampled_from(["UTF-8", codec, "none"]))
        text = body.decode("utf-8", errors="replace")
        head = "" if declared == "none" else f'<?xml version="1.0" encoding="{declared}"?>\n'
        return (head + text).encode(codec, errors="replace"), f"re-encoded {codec} declared {declared}"
    if kind == "doctype":
        dt = draw(st.sampled_from(XML_DOCTYPES))
        use = draw(st.booleans())
        if use:
            body = body.replace("Тестовый УЦ".encode(), b"&x;&f;", 1)
        return (decl.group(0) if decl else b"") + dt + body, f"doctype {dt[:30]!r} entity use {use}"
    if kind == "pi":
        return body.replace(b">", b"><?pi x?><!-- c -->", 1), "processing instruction + comment"
    if kind == "bom":
        return draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"])) + data, "bom"
    if kind == "nul":
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\x00" + data[i:], f"NUL at {i}"
    if kind == "cdata":
        return data.replace(b"<\xd0\x94\xd0\xb0\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5>", b"<\xd0\x94\xd0\xb0\xd0\xbd\xd0\xbd"
                            b"\xd1\x8b\xd0\xb5><![CDATA[]]]]><![CDATA[>]]>", 1), "cdata"
    return _byte_op(draw, data)


@st.composite
def xml_mutants(draw: Callable, seeds: dict[str, bytes]) -> Mutant:
    name = draw(st.sampled_from(sorted(seeds)))
    data = seeds[name]
    ops = []
    for _ in range(draw(st.sampled_from([1, 1, 2]))):
        op = _xml_tree_op if draw(st.integers(0, 9)) < 5 else _xml_text_op
        data, what = _bounded(op(draw, data), data)
        ops.append(what)
    return Mutant(name, data, tuple(ops))


# ------------------------------------------------------------------------------------------------- JSON

SENTINEL = "@SENTINEL@"  # replaced by the target with the absolute path of a file outside the store
FIFO = "@FIFO@"  # replaced with a FIFO's path

JSON_VALUES: list[object] = [None, True, False, 0, -1, 2**63, 1.5, "", "x" * 100000, [], {}, [1, 2], {"a": 1},
                             "\ud800", "../../outside", "/dev/zero", "/", ".", "roots", "roots/../../x",
                             "../sentinel.txt", SENTINEL, FIFO, "a\x00b", "ZZ" * 20, "0" * 40, "2026-13-45T99:99:99Z",
                             "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
JSON_RAW = {"huge-int": "1" * 4200, "huge-int-5000": "1" * 5000, "inf": "1e400", "nan": "NaN",
            "neg-inf": "-Infinity", "float-tiny": "1e-400"}
FILE_VALUES = ["../sentinel.txt", SENTINEL, FIFO, "/dev/zero", "/proc/self/mem", "", ".", "roots", "../" * 30 + "etc",
               "roots/\x00", "x" * 5000]


def _json_paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _json_paths(v, (*prefix, i))
    return out


def _get(doc: object, path: tuple) -> object:
    for p in path:
        doc = doc[p]  # type: ignore[index]
    return doc


def _json_tree_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return _json_text_op(draw, data)
    paths = _json_paths(doc)
    path = paths[draw(st.integers(0, len(paths) - 1))]
    kind = draw(st.sampled_from(["value", "value", "raw", "file", "delete", "unknown-key", "copies", "nest"]))
    raw: str | None = None
    if kind == "file":
        files = [p for p in paths if p and p[-1] == "file"]
        if files:
            path = files[draw(st.integers(0, len(files) - 1))]
            kind = "value"
            value: object = draw(st.sampled_from(FILE_VALUES))
        else:
            value = draw(st.sampled_from(JSON_VALUES))
            kind = "value"
    elif kind == "value":
        value = draw(st.sampled_from(JSON_VALUES))
    elif kind == "raw":
        raw_name = draw(st.sampled_from(sorted(JSON_RAW)))
        raw = JSON_RAW[raw_name]
        value = "@RAW@"
    elif kind == "nest":
        depth = draw(st.sampled_from([50, 1000, 100000]))
        value = "@NEST@"
        raw = "[" * depth + "]" * depth
    if kind in ("value", "raw", "nest"):
        if not path:
            doc = value
        else:
            _get(doc, path[:-1])[path[-1]] = value  # type: ignore[index]
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
        if raw is not None:
            text = text.replace(json.dumps(value), raw, 1)
        return text.encode("utf-8", errors="surrogatepass"), f"{path}: {kind} {str(raw or value)[:20]!r}"
    target = _get(doc, path)
    if kind == "delete" and path:
        container = _get(doc, path[:-1])
        del container[path[-1]]  # type: ignore[arg-type, union-attr]
        return json.dumps(doc).encode(), f"{path}: delete"
    if kind == "unknown-key" and isinstance(target, dict):
        target[draw(st.sampled_from(["extra", "__proto__", "", "kind", "file"]))] = draw(st.sampled_from(JSON_VALUES))
        return json.dumps(doc).encode(), f"{path}: add key"
    if kind == "copies" and isinstance(target, list) and target:
        k = draw(st.sampled_from([2, 1000, 100000]))
        target.extend([target[0]] * (k - 1))
        return json.dumps(doc).encode(), f"{path}: {k} copies of the first item"
    return _json_text_op(draw, data)


def _json_text_op(draw: Callable, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["bom", "utf16", "latin1", "invalid-utf8", "bytes", "dupkey", "trailing"]))
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, "utf-8 bom"
    if kind == "utf16":
        codec = draw(st.sampled_from(["utf-16", "utf-32-le"]))
        return data.decode("utf-8", errors="replace").encode(codec), codec
    if kind == "latin1":
        return data.decode("utf-8", errors="replace").encode("cp1251", errors="replace"), "cp1251"
    if kind == "invalid-utf8":
        i = draw(st.integers(0, len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
        return data[:i] + bad + data[i:], f"bad utf-8 {bad.hex()} at {i}"
    if kind == "dupkey":
        return data.replace(b"{", b'{"version": "x", "schema": [], ', 1), "duplicate keys"
    if kind == "trailing":
        return data + draw(st.sampled_from([b"x", b"{}", b"\x00", b"]"])), "trailing"
    return _byte_op(draw, data)


@st.composite
def json_mutants(draw: Callable, seeds: dict[str, bytes]) -> Mutant:
    name = draw(st.sampled_from(sorted(seeds)))
    data = seeds[name]
    ops = []
    for _ in range(draw(st.sampled_from([1, 1, 2]))):
        op = _json_tree_op if draw(st.integers(0, 9)) < 7 else _json_text_op
        data, what = _bounded(op(draw, data), data)
        ops.append(what)
    return Mutant(name, data, tuple(ops))
