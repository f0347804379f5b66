"""Attribute value types: exactly Neutron's conversions (northbound §1.5), nothing more."""

from __future__ import annotations

import pytest

from alcor.resources.types import (
    Bool,
    Cidr,
    Enum,
    Int,
    IntEnum,
    Invalid,
    IpAddress,
    IpOrCidr,
    ListOf,
    Mac,
    Obj,
    String,
    Uuid,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("tRuE", True),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
    ],
)
def test_bool_accepts_neutron_conversions(raw, expected):
    """Booleans come from true/false, "true"/"false" in any case, 0/1 and "0"/"1"."""
    assert Bool().convert(raw) is expected


@pytest.mark.parametrize("raw", ["yes", "no", "t", "", 2, -1, 1.0, 0.0, None, [], {}, "2"])
def test_bool_refuses_everything_else(raw):
    """Nothing else converts to a boolean."""
    with pytest.raises(Invalid):
        Bool().convert(raw)


@pytest.mark.parametrize("raw, expected", [(5, 5), ("5", 5), ("-3", -3), (" 7 ", 7), (0, 0)])
def test_int_accepts_integers_and_numeric_strings(raw, expected):
    """Integers come from ints and numeric strings."""
    assert Int().convert(raw) == expected


@pytest.mark.parametrize("raw", [True, False, 1.5, "2.0", "1.5", "abc", "", None, [1], "1e3"])
def test_int_refuses_booleans_floats_and_other_strings(raw):
    """Booleans, fractions and non-numeric strings are not integers."""
    with pytest.raises(Invalid):
        Int().convert(raw)


def test_int_accepts_an_integral_json_number():
    """JSON (and JSON Schema) does not tell 2.0 from 2: both are the integer 2."""
    assert Int().convert(2.0) == 2
    assert type(Int().convert(2.0)) is int


def test_int_bounds_are_enforced():
    """Values outside [minimum, maximum] are refused with the bound in the reason."""
    with pytest.raises(Invalid, match="at least '1'"):
        Int(1, 10).convert(0)
    with pytest.raises(Invalid, match="no larger than '10'"):
        Int(1, 10).convert("11")
    assert Int(1, 10).convert("10") == 10


def test_string_checks_type_length_and_pattern():
    """Strings must be strings within their length and pattern; numbers do not convert."""
    assert String(5).convert("abc") == "abc"
    for bad in (5, None, True, ["a"]):
        with pytest.raises(Invalid):
            String(5).convert(bad)
    with pytest.raises(Invalid, match="maximum length of 5"):
        String(5).convert("abcdef")
    with pytest.raises(Invalid):
        String(60, min_len=1, pattern=r"[^,]+").convert("a,b")
    with pytest.raises(Invalid):
        String(60, min_len=1).convert("")


def test_uuid_is_normalised_to_lowercase_dashed():
    """UUIDs in any accepted spelling come back lowercase and dashed."""
    assert (
        Uuid().convert("A1B2C3D4E5F60718293A4B5C6D7E8F90") == "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90"
    )
    for bad in ("not-a-uuid", 12, None, ""):
        with pytest.raises(Invalid):
            Uuid().convert(bad)


def test_enum_and_int_enum():
    """Enums accept their values only; IntEnum also numeric strings; fold_case canonicalises."""
    assert Enum(("a", "b")).convert("a") == "a"
    with pytest.raises(Invalid):
        Enum(("a", "b")).convert("A")
    assert Enum(("IPv4", "IPv6"), fold_case=True).convert("ipv6") == "IPv6"
    assert IntEnum((4, 6)).convert("6") == 6
    for bad in (5, "5", True, "x", None):
        with pytest.raises(Invalid):
            IntEnum((4, 6)).convert(bad)


def test_ip_addresses_are_canonical():
    """IPs come back canonical (IPv6 compressed, lower-case); versions can be enforced."""
    assert IpAddress().convert("FD00:0001:0000::0001") == "fd00:1::1"
    assert IpAddress().convert("10.0.0.1") == "10.0.0.1"
    with pytest.raises(Invalid):
        IpAddress(version=4).convert("fd00::1")
    for bad in ("10.0.0.256", "10.0.0.0/24", "fe80::1%eth0", 167772161, None, ""):
        with pytest.raises(Invalid):
            IpAddress().convert(bad)


def test_cidr_refuses_host_bits_with_the_recommended_prefix():
    """A CIDR with host bits set names the recommended network (Neutron's message)."""
    assert Cidr().convert("10.0.1.0/24") == "10.0.1.0/24"
    assert Cidr().convert("FD00:1::/64") == "fd00:1::/64"
    with pytest.raises(
        Invalid,
        match="'10.0.1.5/24' isn't a recognized IP subnet cidr, '10.0.1.0/24' is recommended",
    ):
        Cidr().convert("10.0.1.5/24")
    assert Cidr(strict=False).convert("10.0.1.5/24") == "10.0.1.0/24"
    for bad in ("10.0.1.0", "10.0.1.0/33", "x/24", 24, None):
        with pytest.raises(Invalid):
            Cidr().convert(bad)


def test_ip_or_cidr_for_address_pairs():
    """Allowed address pairs take an IP or a CIDR of either version."""
    assert IpOrCidr().convert("10.0.0.5") == "10.0.0.5"
    assert IpOrCidr().convert("10.0.0.0/24") == "10.0.0.0/24"
    assert IpOrCidr().convert("fd00::/64") == "fd00::/64"
    for bad in ("10.0.0.0/40", "nope", None):
        with pytest.raises(Invalid):
            IpOrCidr().convert(bad)


def test_mac_is_lowercase_colon_separated_unicast_and_not_zero():
    """MACs accept - or : in any case, come back lowercase with colons; multicast/zero refused."""
    assert Mac().convert("FA-16-3E-AA-BB-CC") == "fa:16:3e:aa:bb:cc"
    assert Mac().convert("fa:16:3e:aa:bb:cc") == "fa:16:3e:aa:bb:cc"
    for bad in (
        "00:00:00:00:00:00",
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "fa:16:3e:aa:bb",
        "fa16.3eaa.bbcc",
        "zz:16:3e:aa:bb:cc",
        5,
        None,
    ):
        with pytest.raises(Invalid):
            Mac().convert(bad)


def test_object_with_fields_validates_each_and_refuses_unknown_keys():
    """Structured objects name the failing field and refuse unknown keys."""
    pool = Obj(fields=(("start", IpAddress(), True), ("end", IpAddress(), True)))
    assert pool.convert({"start": "10.0.0.2", "end": "10.0.0.9"}) == {
        "start": "10.0.0.2",
        "end": "10.0.0.9",
    }
    with pytest.raises(Invalid, match="'end' is required"):
        pool.convert({"start": "10.0.0.2"})
    with pytest.raises(Invalid, match="Unrecognized attribute"):
        pool.convert({"start": "10.0.0.2", "end": "10.0.0.9", "x": 1})
    with pytest.raises(Invalid, match="end: "):
        pool.convert({"start": "10.0.0.2", "end": "bad"})
    with pytest.raises(Invalid):
        pool.convert(["10.0.0.2"])


def test_object_size_limit():
    """An object over its byte limit is refused."""
    with pytest.raises(Invalid, match="maximum size"):
        Obj(max_bytes=20).convert({"k": "x" * 30})


def test_list_items_duplicates_and_limits():
    """Lists convert each item (naming its index), refuse or collapse duplicates, cap length."""
    assert ListOf(Int()).convert(["1", 2]) == [1, 2]
    with pytest.raises(Invalid, match=r"\[1\]"):
        ListOf(Int()).convert([1, "x"])
    with pytest.raises(Invalid, match="Duplicate"):
        ListOf(IpAddress(), unique=True).convert(["10.0.0.1", "10.0.0.1"])
    assert ListOf(String(), collapse_duplicates=True).convert(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(Invalid, match="more than 2"):
        ListOf(Int(), max_items=2).convert([1, 2, 3])
    with pytest.raises(Invalid):
        ListOf(Int()).convert("1,2")
