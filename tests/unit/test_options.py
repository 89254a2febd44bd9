"""vnvdimm.options against facts observed on qemu-system-x86_64 7.2 (Debian 7.2.22)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.errors import VnvdimmError
from vnvdimm.options import (
    DEFAULT_RAM_SIZE,
    ID_HINT,
    SIZE_HINT,
    HelpRequested,
    MemoryOptions,
    QemuWarning,
    SizeError,
    keyval_parse,
    keyval_parse_help,
    opts_parse_id,
    parse_bool,
    parse_memory_option,
    parse_memory_options,
    parse_size,
    qemu_opts_parse,
    qemu_opts_parse_with_id,
    qemu_strtou64,
    visit_bool,
    visit_enum,
    visit_int,
    visit_size,
    visit_str,
    visit_uint,
    visit_uint_list,
)

PROG = "qemu-system-x86_64"
KiB, MiB, GiB, EiB = 1 << 10, 1 << 20, 1 << 30, 1 << 60


# --- parse_size: values read back with `qom-get /objects/m size` ----------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x10", 16),
        ("0X10", 16),
        ("010", 10),  # decimal, unlike integer properties
        ("1.0", 1),  # an exact fraction needs no suffix
        ("1.", 1),
        ("1.k", 1024),
        ("  +1", 1),
        ("1b", 1),
        ("1B", 1),
        ("1.5K", 1536),
        ("0.1K", 102),
        ("0.00048828125K", 1),  # half a byte rounds up
        ("0.000732421875K", 1),
        ("0.0009765625K", 1),
        ("3.3333333333333333M", 3495253),
        ("1.99999999999999999999K", 1024),  # strtod gives 1.0; QEMU's u64 cast gives 0
        ("1.5e999K", 1),  # strtod overflow: QEMU skips one char and goes on
        ("1.5e999", 1),
        ("1.5e999KK", 1024),
        ("1e", EiB),  # 'e' is the exa suffix
        ("1.5e", EiB + EiB // 2),
        ("15.99999999999999999E", 15 * EiB),
        ("15E", 15 * EiB),
    ],
)
def test_parse_size_values(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "errno_name"),
    [
        ("abc", "EINVAL"),
        ("-1", "EINVAL"),
        ("-0x10", "EINVAL"),
        ("1.5", "EINVAL"),
        ("1.5B", "EINVAL"),
        ("0.5B", "EINVAL"),
        ("1 ", "EINVAL"),
        ("", "EINVAL"),
        ("0x", "EINVAL"),
        ("0xk", "EINVAL"),
        ("00x10", "EINVAL"),
        ("0x1.5", "EINVAL"),
        ("0x10.K", "EINVAL"),
        ("1e3", "EINVAL"),
        ("1.5e3", "EINVAL"),
        ("1.5E-3K", "EINVAL"),
        ("1..5K", "EINVAL"),
        ("1.inf", "EINVAL"),
        ("1KB", "EINVAL"),
        ("16EiB", "EINVAL"),
        ("16EB", "EINVAL"),  # trailing text beats overflow
        ("16E", "ERANGE"),
        ("99999999999E", "ERANGE"),
        ("18446744073709551616", "ERANGE"),
        ("0xffffffffffffffffff", "ERANGE"),
    ],
)
def test_parse_size_errors(text: str, errno_name: str) -> None:
    with pytest.raises(SizeError) as info:
        parse_size(text)
    assert info.value.errno_name == errno_name


def test_parse_size_largest() -> None:
    assert parse_size("18446744073709551615") == (1 << 64) - 1


def test_parse_size_default_suffix() -> None:
    assert parse_size("2", "M") == 2 * MiB
    assert parse_size("2K", "M") == 2 * KiB
    assert parse_size("1.5", "M") == MiB + MiB // 2


def test_parse_size_hex_suffix_warning() -> None:
    warnings: list[QemuWarning] = []
    assert parse_size(" 0x1k", warnings=warnings) == 1024
    assert parse_size("0x10", warnings=warnings) == 16  # no suffix, no warning
    assert [w.message for w in warnings] == [
        "Using a multiplier suffix on hex numbers is deprecated:  0x1k"
    ]
    located = warnings[0].at("-object memory-backend-ram,id=m,size= 0x1k")
    assert located.report(PROG) == (
        f"{PROG}: -object memory-backend-ram,id=m,size= 0x1k: warning: "
        "Using a multiplier suffix on hex numbers is deprecated:  0x1k\n"
    )


# --- booleans and visitors ---------------------------------------------------------


@pytest.mark.parametrize("text", ["on", "yes", "true", "y"])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["off", "no", "false", "n"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "ON", "On", "", "1", "0"])
def test_parse_bool_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bool(text)
    with pytest.raises(VnvdimmError) as info:
        visit_bool("share", text)
    assert info.value.message == "Parameter 'share' expects 'on' or 'off'"


def _message(call: object) -> str:
    assert callable(call)
    with pytest.raises(VnvdimmError) as info:
        call()
    return info.value.message


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "99999999999E", "", "1 ", "1Z"])
def test_object_size_messages(text: str) -> None:
    # -object memory-backend-ram,id=m,size=<text>
    assert _message(lambda: visit_size("size", text, "opts")) == (
        "Parameter 'size' expects a size value"
    )


@pytest.mark.parametrize("text", ["abc", "-1"])
def test_device_size_messages(text: str) -> None:
    # -device nvdimm,memdev=m,label-size=<text>
    assert _message(lambda: visit_size("label-size", text)) == (
        "Parameter 'label-size' expects size"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("-1", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("-0", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("1.0", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("1 ", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("99999999999999999999", "Parameter 'prealloc-threads' expects a uint64 value"),
        ("4294967296", "Parameter 'prealloc-threads' expects uint32_t"),
    ],
)
def test_object_uint32_messages(text: str, message: str) -> None:
    assert _message(lambda: visit_uint("prealloc-threads", text, 32, "opts")) == message


@pytest.mark.parametrize(("text", "value"), [("4294967295", 4294967295), ("0x10", 16),
                                             (" 1", 1), ("+5", 5), ("010", 8)])
def test_object_uint32_values(text: str, value: int) -> None:
    assert visit_uint("prealloc-threads", text, 32, "opts") == value


@pytest.mark.parametrize(
    ("prop", "text", "bits", "signed", "message"),
    [
        ("slot", "x", 32, True, "Parameter 'slot' expects integer"),
        ("slot", "99999999999", 32, True, "Parameter 'slot' expects int32_t"),
        ("slot", "2147483648", 32, True, "Parameter 'slot' expects int32_t"),
        ("slot", "-2147483649", 32, True, "Parameter 'slot' expects int32_t"),
        ("slot", "99999999999999999999", 32, True, "Parameter 'slot' expects integer"),
        ("addr", "x", 64, False, "Parameter 'addr' expects integer"),
        ("addr", "99999999999999999999", 64, False, "Parameter 'addr' expects integer"),
        ("node", "-1", 32, False, "Parameter 'node' expects uint32_t"),
        ("node", "x", 32, False, "Parameter 'node' expects integer"),
        ("node", "4294967296", 32, False, "Parameter 'node' expects uint32_t"),
        ("prealloc-threads", "-1", 32, False, "Parameter 'prealloc-threads' expects uint32_t"),
    ],
)
def test_keyval_int_messages(prop: str, text: str, bits: int, signed: bool, message: str) -> None:
    # -device nvdimm,memdev=m,<prop>=<text> and HMP object_add
    visit = visit_int if signed else visit_uint
    assert _message(lambda: visit(prop, text, bits)) == message


def test_keyval_int_values() -> None:
    assert visit_int("slot", "-1", 32) == -1
    assert visit_int("slot", "010", 32) == 8  # octal, read back as 8 with qom-get
    assert visit_uint("addr", "-5") == (1 << 64) - 5  # then "address must be aligned"
    assert visit_uint("node", "4294967295", 32) == 4294967295


def test_opts_int64_message() -> None:
    assert _message(lambda: visit_int("x", "1k", 64, "opts")) == (
        "Parameter 'x' expects an int64 value"
    )
    assert visit_int("x", "-0x10", 64, "opts") == -16


def test_uint_list_ranges() -> None:
    assert visit_uint_list("host-nodes", ["0", "2-4"], 16) == [0, 2, 3, 4]
    assert _message(lambda: visit_uint_list("host-nodes", ["x"], 16)) == (
        "Parameter 'host-nodes' expects a uint64 value or range"
    )
    assert _message(lambda: visit_uint_list("host-nodes", ["4-2"], 16)) == (
        "Parameter 'host-nodes' expects a uint64 value or range"
    )


def test_visit_enum_and_str() -> None:
    assert visit_str("mem-path", "/x,y") == "/x,y"
    assert visit_enum("policy", "bind", ["default", "preferred", "bind", "interleave"]) == "bind"
    assert _message(lambda: visit_enum("policy", "foo", ["bind"])) == (
        "Parameter 'policy' does not accept value 'foo'"
    )


# --- keyval ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pc,nvdimm", "Expected '=' after parameter 'nvdimm'"),
        ("type=pc,pc", "Expected '=' after parameter 'pc'"),
        ("nvdimm=on,pc", "Expected '=' after parameter 'pc'"),
        ("pc,a..b=1", "Invalid parameter 'a..b'"),
        ("pc,.a=1", "Invalid parameter '.a'"),
        ("pc,a.=1", "Invalid parameter 'a.'"),
        ("pc,=1", "Invalid parameter ''"),
        ("pc,,x", "Invalid parameter ''"),  # no ',,' escaping in the implied value
        (",pc", "Invalid parameter ''"),
        ("pc,a@b=1", "Invalid parameter 'a@b'"),
        ("pc,0=x", "Invalid parameter '0'"),
        ("pc,_x=1", "Invalid parameter '_x'"),
        ("pc,__x=1", "Invalid parameter '__x'"),
        ("pc,a.1x=1", "Invalid parameter 'a.1x'"),
        ("pc,a=1,a.b=2", "Parameters 'a.*' used inconsistently"),
        ("pc,a.b=2,a=1", "Parameters 'a.*' used inconsistently"),
        ("pc,a.0=x,a.b=y", "Parameters 'a.*' used inconsistently"),
        ("pc,a.1=x", "Parameter 'a.0' missing"),
        ("pc,a.0=x,a.2=y", "Parameter 'a.1' missing"),
        ("pc,a.99999999999=1", "Parameter 'a.0' missing"),
        ("pc," + "a" * 128 + "=1", "Parameter '" + "a" * 128 + "' is too long"),
        ("pc,b." + "a" * 128 + "=1", "Parameter fragment '" + "a" * 128 + "' is too long"),
    ],
)
def test_keyval_errors(text: str, message: str) -> None:
    assert _message(lambda: keyval_parse(text, "type")) == message


def test_keyval_values() -> None:
    assert keyval_parse("pc,nvdimm=on,nvdimm=off", "type") == {"type": "pc", "nvdimm": "off"}
    assert keyval_parse("pc,type=q35", "type") == {"type": "q35"}
    assert keyval_parse("nvdimm=on", "type") == {"nvdimm": "on"}
    assert keyval_parse("pc,", "type") == {"type": "pc"}
    assert keyval_parse("", "type") == {}
    assert keyval_parse("pc,x=a,,b,y=", "type") == {"type": "pc", "x": "a,b", "y": ""}
    assert keyval_parse("pc,a.0.b=x,a.1.b=y", "type") == {
        "type": "pc", "a": [{"b": "x"}, {"b": "y"}]}
    assert keyval_parse("pc,__com.redhat_x=1", "type") == {"type": "pc", "__com.redhat_x": "1"}
    assert keyval_parse("pc," + "a" * 127 + "=1", "type")["a" * 127] == "1"
    assert keyval_parse("a.b.c=1", None) == {"a": {"b": {"c": "1"}}}


def test_keyval_without_implied_key() -> None:
    assert _message(lambda: keyval_parse("pc", None)) == "Expected '=' after parameter 'pc'"


def test_keyval_help() -> None:
    assert keyval_parse_help("pc,help", "type") == ({"type": "pc"}, True)
    assert keyval_parse_help("?", "type") == ({}, True)
    assert keyval_parse_help("help=1", "type") == ({"help": "1"}, False)
    # -blockdev help, -compat x=1,help
    assert _message(lambda: keyval_parse("x=1,help", None)) == (
        "Help is not available for this option"
    )


def test_hmp_object_add_bare_flag() -> None:
    text = "memory-backend-ram,id=m2,size=1M,share"
    assert _message(lambda: keyval_parse(text, "qom-type")) == (
        "Expected '=' after parameter 'share'"
    )


# --- QemuOpts ------------------------------------------------------------------------


def test_qemu_opts_flags_and_warnings() -> None:
    warnings: list[QemuWarning] = []
    pairs = qemu_opts_parse("nvdimm,memdev=m,,x,unarmed,noshare,delay,help",
                            "driver", warnings=warnings)
    assert pairs == [("driver", "nvdimm"), ("memdev", "m,x"), ("unarmed", "on"),
                     ("share", "off"), ("delay", "on"), ("help", "on")]
    located = [w.at("-device X").report(PROG) for w in warnings]
    assert located == [
        f"{PROG}: -device X: warning: short-form boolean option 'unarmed' deprecated\n"
        "Please use unarmed=on instead\n",
        f"{PROG}: -device X: warning: short-form boolean option 'noshare' deprecated\n"
        "Please use share=off instead\n",
        f"{PROG}: -device X: warning: short-form boolean option 'delay' deprecated\n"
        "Please use nodelay=off instead\n",
    ]


def test_qemu_opts_order_duplicates_and_id() -> None:
    ident, pairs = qemu_opts_parse_with_id("nvdimm,id=a,slot=0,id=b,slot=1", "driver")
    assert ident == "a"
    assert pairs == [("driver", "nvdimm"), ("slot", "0"), ("slot", "1")]
    # implied key only for the first item
    assert qemu_opts_parse("id=a,nvdimm", "driver") == [("nvdimm", "on")]
    assert opts_parse_id("nvdimm,memdev=m,id") == "on"
    assert opts_parse_id("nvdimm") is None
    assert qemu_opts_parse("", "driver") == []
    assert qemu_opts_parse(",memdev=m", "driver") == [("driver", ""), ("memdev", "m")]


def test_qemu_opts_bad_id() -> None:
    # checked before anything else, so the 'foo' flag warns nothing
    warnings: list[QemuWarning] = []
    with pytest.raises(VnvdimmError) as info:
        qemu_opts_parse("nvdimm,foo,id=1x", "driver", warnings=warnings)
    assert info.value.message == "Parameter 'id' expects an identifier"
    assert info.value.hint == ID_HINT
    assert warnings == []
    err = info.value.with_location("-device nvdimm,foo,id=1x")
    assert err.report(PROG) == (
        f"{PROG}: -device nvdimm,foo,id=1x: Parameter 'id' expects an identifier\n"
        "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"
    )


def test_qemu_opts_merge_list_refuses_id() -> None:
    assert _message(lambda: qemu_opts_parse("1G,noid", "size", merge_lists=True)) == (
        "Invalid parameter 'id'"
    )


# --- -m -------------------------------------------------------------------------------


def _m_error(*texts: str) -> str:
    """stderr QEMU prints for ``-m text [-m text...]``."""
    with pytest.raises(VnvdimmError) as info:
        parse_memory_options([(t, f"-m {t}") for t in texts])
    return info.value.report(PROG)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1G", MemoryOptions(GiB)),
        ("512", MemoryOptions(512 * MiB)),
        ("0", MemoryOptions(DEFAULT_RAM_SIZE)),
        ("", MemoryOptions(DEFAULT_RAM_SIZE)),
        ("1.5M", MemoryOptions(MiB + MiB // 2)),
        ("1.0", MemoryOptions(MiB)),
        ("1B", MemoryOptions(8192)),
        ("18446744073709551615B", MemoryOptions(0)),  # 8 KiB round-up wraps
        ("1G,maxmem=1G", MemoryOptions(GiB, None, GiB)),
        ("1G,slots=0,maxmem=1G", MemoryOptions(GiB, 0, GiB)),
        ("1G,slots=0x10,maxmem=4G", MemoryOptions(GiB, 16, 4 * GiB)),
        ("0,maxmem=1G", MemoryOptions(DEFAULT_RAM_SIZE, None, GiB)),
        ("size=1G,size=2G", MemoryOptions(2 * GiB)),
        ("1G,maxmem=1073741825", MemoryOptions(GiB, None, GiB + 1)),
        ("127M,slots=1,maxmem=128M", MemoryOptions(127 * MiB, 1, 128 * MiB)),
    ],
)
def test_memory_values(text: str, expected: MemoryOptions) -> None:
    assert parse_memory_option(text) == expected


def test_memory_derived_fields() -> None:
    options = parse_memory_option("1G,slots=2,maxmem=4G")
    assert (options.maxram_size, options.ram_slots) == (4 * GiB, 2)
    plain = parse_memory_option("1G")
    assert (plain.maxram_size, plain.ram_slots) == (GiB, 0)


def test_memory_merges_occurrences() -> None:
    assert parse_memory_options([("1G", None), ("2G", None)]) == MemoryOptions(2 * GiB)
    assert parse_memory_options([("1G,slots=2", None), ("maxmem=4G", None)]) == MemoryOptions(
        GiB, 2, 4 * GiB)
    assert parse_memory_option("1G,slots=2,maxmem=4G,slots=0") == MemoryOptions(GiB, 0, 4 * GiB)


@pytest.mark.parametrize(
    ("text", "stderr"),
    [
        ("1G,foo=1", f"{PROG}: -m 1G,foo=1: Invalid parameter 'foo'\n"),
        ("1G,id=x", f"{PROG}: -m 1G,id=x: Invalid parameter 'id'\n"),
        ("1G,foo=1,help", f"{PROG}: -m 1G,foo=1,help: Invalid parameter 'foo'\n"),
        ("1G,help=on", f"{PROG}: -m 1G,help=on: Invalid parameter 'help'\n"),
        ("x", f"{PROG}: -m x: Parameter 'size' expects a non-negative number below 2^64\n"
              + SIZE_HINT),
        ("help", f"{PROG}: -m help: Parameter 'size' expects a non-negative number below 2^64\n"
                 + SIZE_HINT),
        ("1.5", f"{PROG}: -m 1.5: Parameter 'size' expects a non-negative number below 2^64\n"
                + SIZE_HINT),
        ("1G,maxmem=-1", f"{PROG}: -m 1G,maxmem=-1: Parameter 'maxmem' expects a non-negative "
                         "number below 2^64\n" + SIZE_HINT),
        ("16E", f"{PROG}: -m 16E: Value '16E' is out of range for parameter 'size'\n"),
        ("1G,maxmem=99999999999999999999", f"{PROG}: -m 1G,maxmem=99999999999999999999: Value "
         "'99999999999999999999' is out of range for parameter 'maxmem'\n"),
        ("1G,slots=x", f"{PROG}: -m 1G,slots=x: Parameter 'slots' expects a number\n"),
        ("1G,slots=", f"{PROG}: -m 1G,slots=: Parameter 'slots' expects a number\n"),
        ("1G,slots=99999999999999999999", f"{PROG}: -m 1G,slots=99999999999999999999: Value "
         "'99999999999999999999' is too large for parameter 'slots'\n"),
        # the machine-property stage prints no location
        ("17592186044416", f"{PROG}: Parameter 'memory.size' expects size\n"),
        ("1G,maxmem=512M", f"{PROG}: invalid value of maxmem: maximum memory size (0x20000000) "
         "must be at least the initial memory size (0x40000000)\n"),
        ("0,maxmem=100M", f"{PROG}: invalid value of maxmem: maximum memory size (0x6400000) "
         "must be at least the initial memory size (0x8000000)\n"),
        ("1G,slots=2,maxmem=1G", f"{PROG}: invalid value of maxmem: memory slots were specified "
         "but maximum memory size (0x40000000) is equal to the initial memory size "
         "(0x40000000)\n"),
        ("1G,slots=2", f"{PROG}: slots specified but no max-size\n"),
        ("1G,slots=0", f"{PROG}: slots specified but no max-size\n"),
        ("1G,slots=-1", f"{PROG}: slots specified but no max-size\n"),
        ("slots=2", f"{PROG}: slots specified but no max-size\n"),
    ],
)
def test_memory_errors(text: str, stderr: str) -> None:
    assert _m_error(text) == stderr


def test_memory_flag_warns_then_fails() -> None:
    warnings: list[QemuWarning] = []
    with pytest.raises(VnvdimmError) as info:
        parse_memory_option("1G,slots", location="-m 1G,slots", warnings=warnings)
    assert [w.report(PROG) for w in warnings] == [
        f"{PROG}: -m 1G,slots: warning: short-form boolean option 'slots' deprecated\n"
        "Please use slots=on instead\n"
    ]
    assert info.value.report(PROG) == f"{PROG}: -m 1G,slots: Parameter 'slots' expects a number\n"


def test_memory_hex_warnings() -> None:
    warnings: list[QemuWarning] = []
    assert parse_memory_option("0x10M", location="-m 0x10M", warnings=warnings).size == 16 * MiB
    assert [w.report(PROG) for w in warnings] == [
        f"{PROG}: -m 0x10M: warning: Using a multiplier suffix on hex numbers is deprecated: "
        "0x10M\n",
        f"{PROG}: warning: Using a multiplier suffix on hex numbers is deprecated: 0x10M\n",
    ]
    warnings.clear()
    assert parse_memory_option("0x10", location="-m 0x10", warnings=warnings).size == 16 * MiB
    assert [w.report(PROG) for w in warnings] == [
        f"{PROG}: warning: Using a multiplier suffix on hex numbers is deprecated: 0x10M\n",
    ]


@pytest.mark.parametrize("text", ["1G,help", "1G,?", "1G,help,foo=1"])
def test_memory_help(text: str) -> None:
    with pytest.raises(HelpRequested) as info:
        parse_memory_option(text)
    assert info.value.status == 1
    assert info.value.text == "memory options:\n  maxmem=<size>\n  size=<size>\n  slots=<num>\n"


# --- robustness ------------------------------------------------------------------------

_TEXT = st.one_of(
    st.text(alphabet="abx0123456789.,=-+ _?helpnoKMGTPEBkmx\t", max_size=40),
    st.text(max_size=40),
)


@given(_TEXT)
def test_parsers_raise_only_documented_errors(text: str) -> None:
    for call in (
        lambda: parse_size(text),
        lambda: keyval_parse(text, "type"),
        lambda: keyval_parse(text, None),
        lambda: qemu_opts_parse(text, "driver"),
        lambda: qemu_opts_parse(text, None),
        lambda: visit_int("x", text, 32),
        lambda: visit_uint("x", text, 32, "opts"),
    ):
        with contextlib.suppress(VnvdimmError, ValueError):
            call()


@given(_TEXT)
def test_memory_option_raises_only_documented_errors(text: str) -> None:
    try:
        options = parse_memory_option(text)
    except (VnvdimmError, HelpRequested):
        return
    assert options.size % 8192 == 0
    assert options.maxram_size >= options.size


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_parse_size_integers_roundtrip(value: int) -> None:
    assert parse_size(str(value)) == value
    assert parse_size(hex(value)) == value


_VALUE = st.text(alphabet="ab,=x1 \u00e9", max_size=12)


@given(st.lists(st.tuples(st.sampled_from(["a", "memdev", "size", "x1"]), _VALUE),
                min_size=1, max_size=4))
def test_qemu_opts_commas_escape_as_double_commas(pairs: list[tuple[str, str]]) -> None:
    """`,,` in a value is one literal comma, wherever it falls (QemuOpts)."""
    text = ",".join(f"{name}={value.replace(',', ',,')}" for name, value in pairs)
    assert qemu_opts_parse(text, None) == pairs


@given(st.integers(min_value=1, max_value=(1 << 64) - 1),
       st.text(alphabet="kKMGx.,= ", max_size=3), st.sampled_from([0, 10]))
def test_strtoull_decimal_stops_at_the_first_non_digit(value: int, tail: str,
                                                       base: int) -> None:
    """strtoull semantics: the digit run is the value; trailing text is EINVAL."""
    digits = str(value)
    assert qemu_strtou64(digits + tail, base) == ((22 if tail else 0), value)
    assert qemu_strtou64(" \t+" + digits, base) == (0, value)  # C spaces and a sign
    assert qemu_strtou64("-" + digits, base) == (0, (1 << 64) - value)
