"""The QMP protocol, independent of any transport.

A `QmpSession` is one client's view of a QMP monitor, as QEMU 7.2 implements
it in ``monitor/qmp.c``, ``qapi/qmp-dispatch.c`` and ``qobject/json-*.c``:

* On connect the server sends a greeting, ``{"QMP": {"version": ...,
  "capabilities": ["oob"]}}``.  Until the client runs ``qmp_capabilities``
  every other command fails with ``CommandNotFound``.
* Input is a byte stream of JSON values, split or joined arbitrarily.  QEMU
  cuts it into messages with a lexer that only counts brackets, so a lexical
  error, an unbalanced bracket or a limit breach produces a ``JSON parse error``
  reply immediately and the stream resynchronises on the next structural or
  control character.  Scalars at the top level are messages of their own
  (and are rejected: ``QMP input must be a JSON object``).  QEMU's extensions
  are kept: single-quoted strings, the ``\\'`` escape, modified UTF-8 (U+0000
  as C0 80).
* Every request gets exactly one reply, ``{"return": ...}`` or
  ``{"error": {"class": ..., "desc": ...}}``, with the request's ``id`` echoed;
  parse errors carry no ``id``.  Events go to every negotiated client.
* Output is QEMU's JSON: keys in QDict order (a 512-bucket hash table; see
  `qdict_ordered`), doubles as ``%.17g``, non-ASCII as upper-case ``\\uXXXX``,
  one message per line ending ``\\r\\n`` (the monitor turns ``\\n`` into CRLF).
"""

from __future__ import annotations

import re  # the lexer's fast path: compiled patterns
import sys

from vnvdimm.errors import CommandNotFoundError, VnvdimmError
from vnvdimm.monitor import PACKAGE as PACKAGE
from vnvdimm.monitor import QEMU_VERSION as QEMU_VERSION
from vnvdimm.monitor import greeting_bytes
from vnvdimm.qdict import qdict_order, qemu_order

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from vnvdimm.monitor.events import Event, EventBus

    class CommandTableLike(Protocol):
        """What a session needs from the monitor's command table."""

        def qmp_command_names(self) -> list[str]: ...

        def supports_oob(self, name: str) -> bool: ...

        def execute(self, name: str, arguments: dict[str, object]) -> object: ...
else:
    class CommandTableLike:
        """What a session needs from the monitor's command table.

        A structural type (a typing.Protocol for the type checker); anything with
        `qmp_command_names`, `supports_oob` and `execute` methods is one."""

JsonValue = object
"""A parsed JSON value: dict, list, str, int, float, bool or None."""


# --------------------------------------------------------------------------------------
# QEMU's JSON output (qobject/qjson.c to_json) and QDict key order (qobject/qdict.c)

def qdict_keys(value: dict[str, object]) -> list[str]:
    """The keys of a dict built in QEMU's insertion order, in QEMU's iteration order."""
    return qdict_order(list(value))


qdict_ordered = qemu_order


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}
_NONCHARACTER = re.compile("[\ufdd0-\ufdef\ud800-\udfff]")


def _string_to_json(text: str) -> str:
    quoted = _c_encode_ascii(text)  # QEMU's escapes, but lower-case hex and a bare DEL
    if "\\u" not in quoted and "\x7f" not in quoted:
        return quoted
    out = ['"']
    for char in text:
        escape = _ESCAPES.get(char)
        if escape is not None:
            out.append(escape)
            continue
        cp = ord(char)
        if (cp & 0xFFFE) == 0xFFFE or _NONCHARACTER.match(char):
            cp = 0xFFFD  # what mod_utf8_codepoint() makes of an invalid sequence
        if cp > 0xFFFF:
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}")
        elif cp < 0x20 or cp >= 0x7F:
            out.append(f"\\u{cp:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _py_encode_ascii(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c) or (c if " " <= c < "\x7f" else f"\\u{ord(c):04x}")
                         for c in text) + '"'


try:  # the C helper behind json.dumps, without importing the json package
    from _json import encode_basestring_ascii as _c_encode_ascii
except ImportError:  # pragma: no cover - other Pythons
    _c_encode_ascii = _py_encode_ascii

_key_cache: dict[str, str] = {}


def _key_to_json(key: str) -> str:
    found = _key_cache.get(key)
    if found is None:
        found = _string_to_json(key)
        if len(_key_cache) < 4096:
            _key_cache[key] = found
    return found


def to_json(value: object, pretty: bool = False, indent: int = 0) -> str:
    """Serialise like qobject_to_json[_pretty]; dicts are printed in their own order."""
    if isinstance(value, str):
        return _string_to_json(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.17g}"
    if isinstance(value, dict):
        if not pretty:
            return "{" + ", ".join([f"{_key_to_json(k)}: {to_json(v)}"
                                    for k, v in value.items()]) + "}"
        inner = "\n" + "    " * (indent + 1)
        items = ",".join(f"{inner}{_string_to_json(str(k))}: {to_json(v, True, indent + 1)}"
                         for k, v in value.items())
        return "{" + items + "\n" + "    " * indent + "}"
    if isinstance(value, list | tuple):
        if not pretty:
            return "[" + ", ".join([to_json(v) for v in value]) + "]"
        inner = "\n" + "    " * (indent + 1)
        items = ",".join(f"{inner}{to_json(v, True, indent + 1)}" for v in value)
        return "[" + items + "\n" + "    " * indent + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


# --------------------------------------------------------------------------------------
# QEMU's JSON lexer (qobject/json-lexer.c), a byte-driven state machine

JSON_ERROR = 0
(IN_RECOVERY, IN_DQ_STRING_ESCAPE, IN_DQ_STRING, IN_SQ_STRING_ESCAPE, IN_SQ_STRING,
 IN_ZERO, IN_EXP_DIGITS, IN_EXP_SIGN, IN_EXP_E, IN_MANTISSA, IN_MANTISSA_DIGITS, IN_DIGITS,
 IN_SIGN, IN_KEYWORD, IN_INTERP, IN_START) = range(1, 17)
(JSON_LCURLY, JSON_RCURLY, JSON_LSQUARE, JSON_RSQUARE, JSON_COLON, JSON_COMMA,
 JSON_INTEGER, JSON_FLOAT, JSON_KEYWORD, JSON_STRING) = range(100, 110)
LOOKAHEAD = 0x80
_TOKENS = frozenset(range(JSON_LCURLY, JSON_STRING + 1))

MAX_TOKEN_SIZE = 64 << 20
MAX_TOKEN_COUNT = 2 << 20
MAX_NESTING = 1 << 10


def _lexer_table() -> list[list[int]]:
    table = [[JSON_ERROR] * 256 for _ in range(IN_START + 1)]

    def put(state: int, chars: str | range, target: int) -> None:
        for c in (chars if isinstance(chars, range) else map(ord, chars)):
            table[state][c] = target

    digits = "0123456789"
    put(IN_RECOVERY, range(0x20, 0xFE), IN_RECOVERY)
    put(IN_RECOVERY, range(0x00, 0x20), IN_START | LOOKAHEAD)
    put(IN_RECOVERY, range(0xFE, 0x100), IN_START | LOOKAHEAD)
    put(IN_RECOVERY, "\t", IN_RECOVERY)
    put(IN_RECOVERY, "[]{}:,", IN_START | LOOKAHEAD)
    for escape, string, quote in ((IN_DQ_STRING_ESCAPE, IN_DQ_STRING, '"'),
                                  (IN_SQ_STRING_ESCAPE, IN_SQ_STRING, "'")):
        put(escape, range(0x20, 0xFE), string)
        put(string, range(0x20, 0xFE), string)
        put(string, "\\", escape)
        put(string, quote, JSON_STRING)
    put(IN_ZERO, range(256), JSON_INTEGER | LOOKAHEAD)
    put(IN_ZERO, digits, JSON_ERROR)
    put(IN_ZERO, ".", IN_MANTISSA)
    put(IN_EXP_DIGITS, range(256), JSON_FLOAT | LOOKAHEAD)
    put(IN_EXP_DIGITS, digits, IN_EXP_DIGITS)
    put(IN_EXP_SIGN, digits, IN_EXP_DIGITS)
    put(IN_EXP_E, "-+", IN_EXP_SIGN)
    put(IN_EXP_E, digits, IN_EXP_DIGITS)
    put(IN_MANTISSA_DIGITS, range(256), JSON_FLOAT | LOOKAHEAD)
    put(IN_MANTISSA_DIGITS, digits, IN_MANTISSA_DIGITS)
    put(IN_MANTISSA_DIGITS, "eE", IN_EXP_E)
    put(IN_MANTISSA, digits, IN_MANTISSA_DIGITS)
    put(IN_DIGITS, range(256), JSON_INTEGER | LOOKAHEAD)
    put(IN_DIGITS, digits, IN_DIGITS)
    put(IN_DIGITS, "eE", IN_EXP_E)
    put(IN_DIGITS, ".", IN_MANTISSA)
    put(IN_SIGN, "0", IN_ZERO)
    put(IN_SIGN, "123456789", IN_DIGITS)
    put(IN_KEYWORD, range(256), JSON_KEYWORD | LOOKAHEAD)
    put(IN_KEYWORD, "abcdefghijklmnopqrstuvwxyz", IN_KEYWORD)
    put(IN_START, '"', IN_DQ_STRING)
    put(IN_START, "'", IN_SQ_STRING)
    put(IN_START, "0", IN_ZERO)
    put(IN_START, "123456789", IN_DIGITS)
    put(IN_START, "-", IN_SIGN)
    for char, token in zip("{}[]:,", range(JSON_LCURLY, JSON_COMMA + 1), strict=True):
        put(IN_START, char, token)
    put(IN_START, "abcdefghijklmnopqrstuvwxyz", IN_KEYWORD)
    put(IN_START, " \t\r\n", IN_START)
    return table


_LEXER = _lexer_table()
# Runs of bytes a state keeps consuming without a transition (the fast path).
_RUNS = {
    IN_DQ_STRING: re.compile(rb'[\x20\x21\x23-\x5b\x5d-\xfd]+'),
    IN_SQ_STRING: re.compile(rb'[\x20-\x26\x28-\x5b\x5d-\xfd]+'),
    IN_START: re.compile(rb'[ \t\r\n]+'),
    IN_RECOVERY: re.compile(rb'[\x20-\x2b\x2d-\x39\x3b-\x5a\x5c\x5e-\x7a\x7c\x7e-\xfd\t]+'),
    IN_DIGITS: re.compile(rb'[0-9]+'),
    IN_KEYWORD: re.compile(rb'[a-z]+'),
}

Message = tuple[JsonValue, None] | tuple[None, str]
"""What the streamer emits: (value, None), or (None, error description)."""


def _c_string(data: bytes | bytearray) -> bytes:
    """What C's %s prints of a token: up to the first NUL."""
    return bytes(data).split(b"\0", 1)[0]


def _decode_message(data: bytes) -> str:
    """A C error message (modified UTF-8 bytes) as the str QEMU would print."""
    out = []
    i = 0
    while i < len(data):
        cp, end = _mod_utf8_codepoint(data, i)
        out.append(chr(0xFFFD if cp < 0 else cp))
        i = max(end, i + 1)
    return "".join(out)


class JsonStreamer:
    """QEMU's json-lexer + json-streamer + json-parser: bytes in, messages out."""

    def __init__(self) -> None:
        self.state = IN_START
        self.token = bytearray()
        self.tokens: list[tuple[int, bytes]] = []
        self.brace_count = 0
        self.bracket_count = 0
        self.token_size = 0
        self.out: list[Message] = []

    def feed(self, data: bytes) -> list[Message]:
        """Lex `data`; return the messages it completed, in order."""
        self.out = []
        table = _LEXER
        i, n = 0, len(data)
        while i < n:
            run = _RUNS.get(self.state)
            if run is not None:
                match = run.match(data, i)
                if match is not None:
                    if self.state not in (IN_START, IN_RECOVERY):
                        self.token += match.group()
                    i = match.end()
                    if len(self.token) > MAX_TOKEN_SIZE:
                        self._oversized()
                    if i >= n:
                        break
            ch = data[i]
            i += 1
            while True:  # json_lexer_feed_char: one char, maybe after a lookahead
                new = table[self.state][ch]
                consumed = not new & LOOKAHEAD
                new &= ~LOOKAHEAD
                if consumed:
                    self.token.append(ch)
                if new in _TOKENS:
                    self._process(new, bytes(self.token))
                    self.token.clear()
                    new = IN_START
                elif new == IN_START:
                    self.token.clear()
                elif new == JSON_ERROR:
                    self._process(JSON_ERROR, bytes(self.token))
                    self.token.clear()
                    new = IN_RECOVERY
                elif new == IN_RECOVERY:
                    self.token.clear()
                self.state = new
                if consumed:
                    break
            if len(self.token) > MAX_TOKEN_SIZE:
                self._oversized()
        return self.out

    def _oversized(self) -> None:
        # The lexer hands the over-long partial token to the streamer, which refuses it.
        self._process(self.state, bytes(self.token))
        self.token.clear()
        self.state = IN_START

    def _process(self, kind: int, text: bytes) -> None:
        """json_message_process_token()."""
        if kind == JSON_LCURLY:
            self.brace_count += 1
        elif kind == JSON_RCURLY:
            self.brace_count -= 1
        elif kind == JSON_LSQUARE:
            self.bracket_count += 1
        elif kind == JSON_RSQUARE:
            self.bracket_count -= 1
        elif kind == JSON_ERROR:
            stray = _decode_message(_c_string(text))
            return self._emit((None, f"JSON parse error, stray '{stray}'"))
        if self.token_size + len(text) + 1 > MAX_TOKEN_SIZE:
            return self._emit((None, "JSON token size limit exceeded"))
        if len(self.tokens) + 1 > MAX_TOKEN_COUNT:
            return self._emit((None, "JSON token count limit exceeded"))
        if self.bracket_count + self.brace_count > MAX_NESTING:
            return self._emit((None, "JSON nesting depth limit exceeded"))
        self.tokens.append((kind, text))
        self.token_size += len(text)
        if ((self.brace_count > 0 or self.bracket_count > 0)
                and self.brace_count >= 0 and self.bracket_count >= 0):
            return None
        return self._emit(_Parser(self.tokens).parse())

    def _emit(self, message: Message) -> None:
        self.brace_count = self.bracket_count = 0
        self.tokens = []
        self.token_size = 0
        self.out.append(message)


class _ParseError(Exception):
    pass


def _cvt4hex(data: bytes, at: int) -> int:
    chunk = data[at:at + 4]
    if len(chunk) < 4 or not all(c in b"0123456789abcdefABCDEF" for c in chunk):
        return -1
    return int(chunk, 16)


def _valid_codepoint(cp: int) -> bool:
    if cp < 0 or cp > 0x10FFFF:
        return False
    if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
        return False
    return not 0xD800 <= cp <= 0xDFFF


_MIN_CP = (0x80, 0x800, 0x10000, 0x200000, 0x4000000)


def _mod_utf8_codepoint(data: bytes, at: int) -> tuple[int, int]:
    """util/unicode.c mod_utf8_codepoint(s, 6, &end): (codepoint or -1, end)."""
    limit = min(len(data), at + 6)
    if at >= limit or data[at] == 0:
        return -1, at
    byte = data[at]
    p = at + 1
    if byte < 0x80:
        return byte, p
    if byte >= 0xFE or not byte & 0x40:
        return -1, p
    length, mask = 0, 0x80
    while byte & mask:
        length += 1
        mask >>= 1
    cp = byte & (mask - 1)
    for i in range(1, length):
        cont = data[p] if at + i < limit else 0
        if (cont & 0xC0) != 0x80:
            return -1, p
        p += 1
        cp = (cp << 6) | (cont & 0x3F)
    if cp > 0x10FFFF or 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
        return -1, p
    if 0xD800 <= cp <= 0xDFFF:
        return -1, p
    if cp < _MIN_CP[length - 2] and not (cp == 0 and length == 2):
        return -1, p
    return cp, p


_SIMPLE_ESCAPES = {ord('"'): '"', ord("'"): "'", ord("\\"): "\\", ord("/"): "/",
                   ord("b"): "\b", ord("f"): "\f", ord("n"): "\n", ord("r"): "\r",
                   ord("t"): "\t"}
_BAD_CHARS = re.compile("[\ufdd0-\ufdef\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff"
                        "\U0003fffe\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff"
                        "\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
                        "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff"
                        "\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff"
                        "\U000ffffe\U000fffff\U0010fffe\U0010ffff]")


def parse_string(token: bytes) -> str:
    """json-parser.c parse_string(): a string token (quotes included) to its value."""
    body = token[1:-1]
    if b"\\" not in body and b"\xc0" not in body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not _BAD_CHARS.search(text):
                return text
    quote = token[0]
    out: list[str] = []
    p = 1
    while token[p] != quote:
        if token[p] == 0x5C:  # backslash
            begin = p
            escape = token[p + 1]
            p += 2
            simple = _SIMPLE_ESCAPES.get(escape)
            if simple is not None:
                out.append(simple)
                continue
            if escape != ord("u"):
                raise _ParseError("invalid escape sequence in string")
            cp = _cvt4hex(token, p)
            p += 4
            if 0xD800 <= cp <= 0xDBFF and token[p:p + 2] == b"\\u":
                cp = 0x10000 + ((cp & 0x3FF) << 10)
                trailing = _cvt4hex(token, p + 2)
                if 0xDC00 <= trailing <= 0xDFFF:
                    cp |= trailing & 0x3FF
                    p += 6
                else:
                    cp = -1
            if not _valid_codepoint(cp):
                shown = _decode_message(_c_string(token[begin:p]))
                raise _ParseError(f"{shown} is not a valid Unicode character")
            out.append(chr(cp))
        else:
            cp, end = _mod_utf8_codepoint(token, p)
            if cp < 0:
                raise _ParseError("invalid UTF-8 sequence in string")
            out.append(chr(cp))
            p = end
    return "".join(out)


INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


class _Parser:
    """json-parser.c's recursive descent, as a loop (nesting reaches 1024)."""

    def __init__(self, tokens: list[tuple[int, bytes]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> tuple[int, bytes] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _pop(self) -> tuple[int, bytes]:
        token = self._peek()
        if token is None:
            raise _ParseError("premature EOI")
        self.pos += 1
        return token

    def parse(self) -> Message:
        try:
            return self._parse(), None
        except _ParseError as error:
            return None, f"JSON parse error, {error}"

    def _parse(self) -> JsonValue:
        # A frame: [container, key or None]; key is "" while a dict waits for its key.
        stack: list[list[object]] = []
        while True:
            value = self._value_start(stack)
            if value is _OPENED:
                continue
            while True:  # hand `value` to the enclosing container
                if not stack:
                    return value
                frame = stack[-1]
                container = frame[0]
                if isinstance(container, list):
                    container.append(value)
                    kind = self._pop()[0]
                    if kind == JSON_RSQUARE:
                        stack.pop()
                        value = container
                        continue
                    if kind != JSON_COMMA:
                        raise _ParseError("expected separator in list")
                    break
                assert isinstance(container, dict)
                if frame[1] is None:  # `value` is a key
                    if not isinstance(value, str):
                        raise _ParseError("key is not a string in object")
                    if self._pop()[0] != JSON_COLON:
                        raise _ParseError("missing : in object pair")
                    frame[1] = value
                    break
                key = frame[1]
                assert isinstance(key, str)
                if key in container:
                    raise _ParseError("duplicate key")
                container[key] = value
                frame[1] = None
                kind = self._pop()[0]
                if kind == JSON_RCURLY:
                    stack.pop()
                    value = container
                    continue
                if kind != JSON_COMMA:
                    raise _ParseError("expected separator in dict")
                if self._peek() is None:
                    raise _ParseError("premature EOI")
                break

    def _value_start(self, stack: list[list[object]]) -> object:
        """parse_value(): a scalar, an empty container, or _OPENED after pushing one."""
        token = self._peek()
        if token is None:
            raise _ParseError("premature EOI")
        kind, text = token
        if kind in (JSON_LCURLY, JSON_LSQUARE):
            self.pos += 1
            following = self._peek()
            if following is None:
                raise _ParseError("premature EOI")
            if kind == JSON_LCURLY:
                if following[0] == JSON_RCURLY:
                    self.pos += 1
                    return {}
                stack.append([{}, None])
                return _OPENED
            if following[0] == JSON_RSQUARE:
                self.pos += 1
                return []
            stack.append([[], None])
            return _OPENED
        if kind == JSON_STRING:
            self.pos += 1
            return parse_string(text)
        if kind == JSON_INTEGER:
            self.pos += 1
            number = int(text)
            if INT64_MIN <= number <= INT64_MAX or 0 <= number <= UINT64_MAX:
                return number
            return float(text)
        if kind == JSON_FLOAT:
            self.pos += 1
            return float(text)
        if kind == JSON_KEYWORD:
            self.pos += 1
            word = text.decode("ascii")
            if word in _KEYWORDS:
                return _KEYWORDS[word]
            raise _ParseError(f"invalid keyword '{word}'")
        raise _ParseError("expecting value")


_OPENED = object()
_KEYWORDS: dict[str, object] = {"true": True, "false": False, "null": None}


# --------------------------------------------------------------------------------------
# The session


def _error(error_class: str, desc: str) -> dict[str, object]:
    return {"error": {"class": error_class, "desc": desc}}


_EXEC_KEYS = ("execute", "exec-oob")


class QmpSession:
    """One client of one QMP monitor: greeting, negotiation, dispatch and events.

    ``send`` receives whole messages (bytes, CRLF-terminated); the transport
    buffers them.  `feed` never raises: every failure becomes a reply.
    """

    def __init__(self, table: CommandTableLike, events: EventBus,
                 send: Callable[[bytes], None], *, oob: bool = True,
                 pretty: bool = False) -> None:
        self.table = table
        self.events = events
        self.send = send
        self.oob_offered = oob
        self.pretty = pretty
        self.negotiated = False
        self.oob_enabled = False
        self.halted = False
        self._streamer = JsonStreamer()
        self._unsubscribe: Callable[[], None] | None = None
        self._known: frozenset[str] | None = None

    # -- transport side ---------------------------------------------------------------

    def start(self) -> None:
        """Send the greeting (`monitor/__init__.py`: the same bytes `_send` would make)."""
        self.send(greeting_bytes(self.oob_offered, self.pretty))

    def feed(self, data: bytes) -> None:
        """Handle bytes from the client; replies go to ``send`` before this returns."""
        if self.halted:
            return
        for value, error in self._streamer.feed(data):
            if self.halted:
                return  # after quit, QEMU reads nothing more
            if error is not None:
                self._send(_error("GenericError", error))
            else:
                self._send(self._dispatch(value))

    def halt(self) -> None:
        """Stop handling input (the platform is shutting down); events still flow."""
        self.halted = True

    def close(self) -> None:
        self.halted = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _send(self, message: object) -> None:
        text = to_json(message, self.pretty)
        if self.pretty:
            text = text.replace("\n", "\r\n")
        self.send(text.encode("ascii") + b"\r\n")

    def _on_event(self, event: Event) -> None:
        message = event.to_json()
        if "data" in message:
            message["data"] = qdict_ordered(message["data"])
        self._send(message)

    # -- qmp_dispatch() ---------------------------------------------------------------

    def _dispatch(self, request: JsonValue) -> dict[str, object]:
        if not isinstance(request, dict):
            return _error("GenericError", "QMP input must be a JSON object")
        has_id = "id" in request
        request_id = request.get("id")
        try:
            response = self._run(request)
        except VnvdimmError as error:
            response = {"error": error.qmp()}
        except Exception as exc:  # a bug in a handler must not take the monitor down
            sys.stderr.write(f"vnvdimm: internal error in QMP command: {exc!r}\n")
            response = _error("GenericError", f"internal error: {exc}")
        if not self.negotiated and "error" in response:
            failure = response["error"]
            assert isinstance(failure, dict)
            if failure.get("class") == "CommandNotFound":
                desc = "Expecting capabilities negotiation with 'qmp_capabilities'"
                response = _error("CommandNotFound", desc)
        if has_id:
            response["id"] = qdict_ordered(request_id)
            if "error" in response:  # QDict order: "id" (486) before "error" (489)
                response = {"id": response["id"], "error": response["error"]}
        return response

    def _check_obj(self, request: dict[str, object]) -> str:
        """qmp_dispatch_check_obj(): the envelope, members in QDict order."""
        exec_key: str | None = None
        for name in qdict_keys(request):
            value = request[name]
            if name == "execute" or (name == "exec-oob" and self.oob_enabled):
                if not isinstance(value, str):
                    raise VnvdimmError(f"QMP input member '{name}' must be a string")
                if exec_key is not None:
                    raise VnvdimmError(f"QMP input member '{name}' clashes with '{exec_key}'")
                exec_key = name
            elif name == "arguments":
                if not isinstance(value, dict):
                    raise VnvdimmError("QMP input member 'arguments' must be an object")
            elif name != "id":
                raise VnvdimmError(f"QMP input member '{name}' is unexpected")
        if exec_key is None:
            raise VnvdimmError("QMP input lacks member 'execute'")
        return exec_key

    def _known_commands(self) -> frozenset[str]:
        if self._known is None:
            self._known = frozenset(self.table.qmp_command_names()) | {"qmp_capabilities"}
        return self._known

    def _run(self, request: dict[str, object]) -> dict[str, object]:
        exec_key = self._check_obj(request)
        name = request[exec_key]
        assert isinstance(name, str)
        oob = exec_key == "exec-oob"
        if not self.negotiated:
            if name != "qmp_capabilities":
                raise CommandNotFoundError(f"The command {name} has not been found")
        elif name not in self._known_commands():
            raise CommandNotFoundError(f"The command {name} has not been found")
        if oob and (name == "qmp_capabilities" or not self.table.supports_oob(name)):
            raise VnvdimmError(f"The command {name} does not support OOB")
        arguments = request.get("arguments", {})
        assert isinstance(arguments, dict)
        if name == "qmp_capabilities":
            self._qmp_capabilities(arguments)
            return {"return": {}}
        result = self.table.execute(name, arguments)
        return {"return": {} if result is None else result}

    def _qmp_capabilities(self, arguments: dict[str, object]) -> None:
        """qmp_marshal_qmp_capabilities + qmp_qmp_capabilities."""
        enable: list[str] = []
        if "enable" in arguments:
            value = arguments["enable"]
            if not isinstance(value, list):
                raise VnvdimmError("Invalid parameter type for 'enable', expected: array")
            for index, item in enumerate(value):
                if not isinstance(item, str):
                    raise VnvdimmError(
                        f"Invalid parameter type for 'enable[{index}]', expected: string")
                if item != "oob":
                    raise VnvdimmError(f"Parameter 'null' does not accept value '{item}'")
                enable.append(item)
        for name in qdict_keys(arguments):
            if name != "enable":
                raise VnvdimmError(f"Parameter '{name}' is unexpected")
        if self.negotiated:
            raise CommandNotFoundError(
                "Capabilities negotiation is already complete, command ignored")
        if enable and not self.oob_offered:
            raise VnvdimmError("Capability oob not available")
        self.negotiated = True
        self.oob_enabled = bool(enable)
        self._unsubscribe = self.events.subscribe(self._on_event)

