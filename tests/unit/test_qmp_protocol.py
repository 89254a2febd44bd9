"""QmpSession without sockets: negotiation, envelope, QEMU's JSON stream and output.

Every expected reply below is what QEMU 7.2.22 sent for the same input
(probed over a unix socket; the greeting's ``package`` differs by design).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnvdimm.errors import CommandNotFoundError, VnvdimmError
from vnvdimm.monitor.events import EventBus
from vnvdimm.monitor.qmp import (
    PACKAGE,
    JsonStreamer,
    QmpSession,
    qdict_keys,
    qdict_ordered,
    to_json,
)

VERSION = {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "x"}


class FakeTable:
    def __init__(self, events: EventBus) -> None:
        self.events = events
        self.quits = 0

    def qmp_command_names(self) -> list[str]:
        return ["query-version", "quit", "migrate-pause", "qmp_capabilities", "boom"]

    def supports_oob(self, name: str) -> bool:
        return name == "migrate-pause"

    def execute(self, name: str, arguments: Mapping[str, object]) -> object:
        if name == "query-version":
            return VERSION
        if name == "quit":
            self.events.emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
            self.quits += 1
            return {}
        if name == "migrate-pause":
            raise VnvdimmError("migrate-pause is currently only supported during "
                               "postcopy-active state")
        if name == "boom":
            raise RuntimeError("bug")
        raise CommandNotFoundError(f"The command {name} has not been found")


def new_session(*, negotiate: bool = False, oob: bool = True, pretty: bool = False,
                ) -> tuple[QmpSession, list[bytes], FakeTable]:
    events = EventBus()
    out: list[bytes] = []
    table = FakeTable(events)
    session = QmpSession(table, events, out.append, oob=oob, pretty=pretty)
    session.start()
    if negotiate:
        session.feed(b'{"execute":"qmp_capabilities"}')
    out.clear()
    return session, out, table


def replies(session: QmpSession, out: list[bytes], data: bytes) -> bytes:
    out.clear()
    session.feed(data)
    return b"".join(out)


def test_greeting_bytes() -> None:
    _, _, _ = new_session()
    out: list[bytes] = []
    events = EventBus()
    QmpSession(FakeTable(events), events, out.append).start()
    assert out == [b'{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, '
                   b'"package": "' + PACKAGE.encode() + b'"}, "capabilities": ["oob"]}}\r\n']


E = b'{"error": {"class": "GenericError", "desc": "%s"}}\r\n'
NOT_NEGOTIATED = (b'{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities '
                  b"negotiation with 'qmp_capabilities'\"}}\r\n")
DONE = (b'{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is '
        b'already complete, command ignored"}}\r\n')

NEGOTIATION = [
    (b'{"execute":"query-version"}', NOT_NEGOTIATED),
    (b'{"execute":"nope"}', NOT_NEGOTIATED),
    (b"[]", E % b"QMP input must be a JSON object"),
    (b"{}", E % b"QMP input lacks member 'execute'"),
    (b'{"execute":1}', E % b"QMP input member 'execute' must be a string"),
    (b'{"exec-oob":"qmp_capabilities"}', E % b"QMP input member 'exec-oob' is unexpected"),
    (b'{"execute":"qmp_capabilities","arguments":{"enable":["foo"]}}',
     E % b"Parameter 'null' does not accept value 'foo'"),
    (b'{"execute":"qmp_capabilities","arguments":{"enable":"oob"}}',
     E % b"Invalid parameter type for 'enable', expected: array"),
    (b'{"execute":"qmp_capabilities","arguments":{"enable":[1]}}',
     E % b"Invalid parameter type for 'enable[0]', expected: string"),
    (b'{"execute":"qmp_capabilities","arguments":{"x":1}}', E % b"Parameter 'x' is unexpected"),
    (b'{"execute":"qmp_capabilities","id":{"a":[1,2]},"foo":1}',
     b'{"id": {"a": [1, 2]}, "error": {"class": "GenericError", "desc": '
     b"\"QMP input member 'foo' is unexpected\"}}\r\n"),
    (b'{"execute":"qmp_capabilities","arguments":[]}',
     E % b"QMP input member 'arguments' must be an object"),
]


@pytest.mark.parametrize(("request_bytes", "expected"), NEGOTIATION)
def test_negotiation_phase(request_bytes: bytes, expected: bytes) -> None:
    session, out, _ = new_session()
    assert replies(session, out, request_bytes) == expected
    assert not session.negotiated


def test_negotiation_then_commands() -> None:
    session, out, _ = new_session()
    assert replies(session, out, b'{"execute":"qmp_capabilities","arguments":'
                                 b'{"enable":["oob","oob"]}}') == b'{"return": {}}\r\n'
    assert replies(session, out, b'{"execute":"qmp_capabilities","id":"x1"}') == (
        b'{"id": "x1", ' + DONE[1:])
    assert replies(session, out, b'{"execute":"query-version","id":1.5}') == (
        b'{"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "x"}, '
        b'"id": 1.5}\r\n')
    assert replies(session, out, b'{"execute":"nope","id":null}') == (
        b'{"id": null, "error": {"class": "CommandNotFound", "desc": "The command nope has '
        b'not been found"}}\r\n')
    assert replies(session, out, b'{"exec-oob":"query-version"}') == (
        E % b"The command query-version does not support OOB")
    assert replies(session, out, b'{"exec-oob":"qmp_capabilities"}') == (
        E % b"The command qmp_capabilities does not support OOB")
    assert replies(session, out, b'{"execute":"query-version","exec-oob":"x"}') == (
        E % b"QMP input member 'execute' clashes with 'exec-oob'")
    assert replies(session, out, b'{"exec-oob":"migrate-pause","id":7}') == (
        b'{"id": 7, "error": {"class": "GenericError", "desc": "migrate-pause is currently '
        b'only supported during postcopy-active state"}}\r\n')
    assert replies(session, out, b'{"exec-oob":1}') == (
        E % b"QMP input member 'exec-oob' must be a string")


def test_oob_not_enabled_means_exec_oob_is_unexpected() -> None:
    session, out, _ = new_session(negotiate=True)
    assert replies(session, out, b'{"exec-oob":"migrate-pause"}') == (
        E % b"QMP input member 'exec-oob' is unexpected")
    assert replies(session, out, b'{"execute":"qmp_capabilities","arguments":{"enable":[]}}'
                   ) == DONE


def test_capability_not_offered() -> None:
    session, out, _ = new_session(oob=False)
    assert replies(session, out, b'{"execute":"qmp_capabilities","arguments":'
                                 b'{"enable":["oob"]}}') == E % b"Capability oob not available"


PARSE = [
    (b"@", E % b"JSON parse error, stray '@'"),
    (b'{"execute":"query-version",@}',
     E % b"JSON parse error, stray '@'" + E % b"JSON parse error, expecting value"),
    (b"123 ", E % b"QMP input must be a JSON object"),
    (b'"abc" ', E % b"QMP input must be a JSON object"),
    (b"true ", E % b"QMP input must be a JSON object"),
    (b"foo ", E % b"JSON parse error, invalid keyword 'foo'"),
    (b'{"a":1,"a":2}', E % b"JSON parse error, duplicate key"),
    (b"{1:2}", E % b"JSON parse error, key is not a string in object"),
    (b'{"a" 1}', E % b"JSON parse error, missing : in object pair"),
    (b"[1 2]", E % b"JSON parse error, expected separator in list"),
    (b'{"a":1 "b":2}', E % b"JSON parse error, expected separator in dict"),
    (b'{"a":}', E % b"JSON parse error, expecting value"),
    (b"[1,]", E % b"JSON parse error, expecting value"),
    (b"]", E % b"JSON parse error, expecting value"),
    (b"}", E % b"JSON parse error, expecting value"),
    (b"[}]", (E % b"JSON parse error, expecting value") * 2),
    (b"[{]}", E % b"JSON parse error, expecting value"),
    (b"{[}]", E % b"JSON parse error, expecting value"),
    (b'"\\u" ', E % b'JSON parse error, \\\\u\\" is not a valid Unicode character'),
    (b'{"a":1}}', E % b"QMP input member 'a' is unexpected"
     + E % b"JSON parse error, expecting value"),
    (b'"\\u12"', E % b'JSON parse error, \\\\u12\\" is not a valid Unicode character'),
    (b'"\\uD800"', E % b"JSON parse error, \\\\uD800 is not a valid Unicode character"),
    (b'"\\uFFFF"', E % b"JSON parse error, \\\\uFFFF is not a valid Unicode character"),
    (b'"\\x"', E % b"JSON parse error, invalid escape sequence in string"),
    (b'"\xff"\n', E % b"JSON parse error, stray '\\\"\\uFFFD'"),
    (b"01", E % b"JSON parse error, stray '01'"),
    (b"-", b""),
    (b"1.", b""),
    (b'{"execute":"x"}\x00',
     b'{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}'
     b"\r\n" + E % b"JSON parse error, stray ''"),
    (b'\t{"execute":"x"}\r\n',
     b'{"error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}'
     b"\r\n"),
    (b"[" * 1025 + b"]" * 3, E % b"JSON nesting depth limit exceeded"
     + (E % b"JSON parse error, expecting value") * 3),
    (b"[" * 1024 + b"]" * 1024, E % b"QMP input must be a JSON object"),
]


@pytest.mark.parametrize(("request_bytes", "expected"), PARSE)
def test_json_stream_errors(request_bytes: bytes, expected: bytes) -> None:
    session, out, _ = new_session(negotiate=True)
    assert replies(session, out, request_bytes) == expected


ID_ECHO = [
    (b"0.1", b"0.10000000000000001"),
    (b"18446744073709551615", b"18446744073709551615"),
    (b"18446744073709551616", b"1.8446744073709552e+19"),
    (b"-9223372036854775809", b"-9.2233720368547758e+18"),
    (b"1e400", b"inf"),
    (b"-0.0", b"-0"),
    (b"1E5", b"100000"),
    (b"[true,false,null,{}]", b"[true, false, null, {}]"),
    (b'"\\"q\\u00e9"', b'"\\"q\\u00E9"'),
    (b"'sq\"\\''", b"\"sq\\\"'\""),
    (b'"a\\u0000b\xc3\xa9\\u007f/\\ud83d\\ude00"', b'"a\\u0000b\\u00E9\\u007F/\\uD83D\\uDE00"'),
    (b'{"micro":1,"minor":2,"major":3}', b'{"minor": 2, "micro": 1, "major": 3}'),
    (b'{"major":3,"minor":2,"micro":1}', b'{"micro": 1, "minor": 2, "major": 3}'),
]


@pytest.mark.parametrize(("id_bytes", "echoed"), ID_ECHO)
def test_id_echo(id_bytes: bytes, echoed: bytes) -> None:
    session, out, _ = new_session(negotiate=True)
    got = replies(session, out, b'{"execute":"x","id":' + id_bytes + b"}")
    assert got == (b'{"id": ' + echoed + b', "error": {"class": "CommandNotFound", '
                   b'"desc": "The command x has not been found"}}\r\n')


STREAM = (b'{"execute":"qmp_capabilities"} {"execute":"query-version","id":"a\xc3\xa9"}'
          b'@@ 12 [1,{"x":[]}] {"execute":"nope","arguments":{"k":"v"}}\n\'x\' '
          b'{"execute":"query-version","id":[1,2.5,-3]}')


def _whole(data: bytes) -> bytes:
    session, out, _ = new_session()
    session.feed(data)
    return b"".join(out)


def test_split_at_every_byte_boundary() -> None:
    expected = _whole(STREAM)
    assert expected.count(b"\r\n") == 7
    for cut in range(len(STREAM) + 1):
        session, out, _ = new_session()
        session.feed(STREAM[:cut])
        session.feed(STREAM[cut:])
        assert b"".join(out) == expected, cut


def test_byte_at_a_time() -> None:
    session, out, _ = new_session()
    for i in range(len(STREAM)):
        session.feed(STREAM[i:i + 1])
    assert b"".join(out) == _whole(STREAM)


def test_events_only_after_negotiation_and_quit_halts() -> None:
    session, out, table = new_session()
    table.events.emit("POWERDOWN")
    assert out == []
    session.feed(b'{"execute":"qmp_capabilities"}')
    out.clear()
    session.feed(b'{"execute":"quit"}')
    lines = b"".join(out).split(b"\r\n")
    assert lines[0].startswith(b'{"timestamp": {"seconds": ')
    assert lines[0].endswith(b'"event": "SHUTDOWN", "data": {"guest": false, '
                             b'"reason": "host-qmp-quit"}}')
    assert lines[1] == b'{"return": {}}'
    session.halt()
    out.clear()
    session.feed(b'{"execute":"query-version"}')
    assert out == []
    session.close()
    table.events.emit("POWERDOWN")
    assert out == []


def test_handler_bug_is_a_reply() -> None:
    session, out, _ = new_session(negotiate=True)
    reply = json.loads(replies(session, out, b'{"execute":"boom","id":1}'))
    assert reply["error"]["class"] == "GenericError" and reply["id"] == 1


def test_pretty_output_like_qmp_pretty() -> None:
    session, out, _ = new_session(pretty=True)
    assert replies(session, out, b'{"execute":"qmp_capabilities"}') == (
        b"{\r\n    \"return\": {\r\n    }\r\n}\r\n")
    assert to_json({"a": [1, {}], "b": []}, True) == (
        '{\n    "a": [\n        1,\n        {\n        }\n    ],\n    "b": [\n    ]\n}')


def test_qdict_order_of_colliding_keys() -> None:
    # "micro" and "minor" share bucket 225: the later insertion comes first.
    assert qdict_keys({"major": 7, "minor": 2, "micro": 22}) == ["micro", "minor", "major"]
    assert qdict_ordered({"x": {"major": 7, "minor": 2, "micro": 22}}) == {
        "x": {"micro": 22, "minor": 2, "major": 7}}


def _check_line(line: bytes) -> None:
    text = line.decode("ascii")
    try:
        message = json.loads(text)
    except ValueError:
        assert re.search(r"(?<![\w\"])-?inf(?![\w\"])", text), text
        return
    assert isinstance(message, dict)
    keys = set(message) - {"id"}
    if "error" in keys:
        assert keys == {"error"}
        assert set(message["error"]) == {"class", "desc"}
    elif "event" in keys:
        assert keys <= {"timestamp", "event", "data"}
    else:
        assert keys == {"return"}, message


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["execute", "exec-oob", "arguments", "id", "enable",
                                       "x"]) | st.text(max_size=4), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40) | JSONISH.map(lambda v: json.dumps(v).encode()),
                max_size=8))
def test_fuzz_never_raises_and_replies_are_qemu_shaped(chunks: list[bytes]) -> None:
    session, out, _ = new_session()
    for chunk in chunks:
        session.feed(chunk)
    for line in b"".join(out).split(b"\r\n")[:-1]:
        _check_line(line)
    assert all(piece.endswith(b"\r\n") for piece in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=200))
def test_fuzz_split_point_does_not_matter(data: bytes, cut: int) -> None:
    whole = JsonStreamer().feed(data)
    streamer = JsonStreamer()
    parts = streamer.feed(data[:cut]) + streamer.feed(data[cut:])
    assert parts == whole
