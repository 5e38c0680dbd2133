"""Host ranges and host:port splitting (Ansible's "Adding ranges of hosts")."""

from __future__ import annotations

import pytest

from fleet.errors import InputError
from fleet.inventory.ranges import expand_host_pattern, expand_hosts, has_range, split_port


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("www[01:50].example.com", [f"www{n:02d}.example.com" for n in range(1, 51)]),
        ("www[01:50:2].example.com", [f"www{n:02d}.example.com" for n in range(1, 51, 2)]),
        ("db-[a:f].example.com", [f"db-{c}.example.com" for c in "abcdef"]),
        ("web[1:3]", ["web1", "web2", "web3"]),
        ("web[:2]", ["web0", "web1", "web2"]),
        ("web[1:10:3]", ["web1", "web4", "web7", "web10"]),
        ("web[001:003]", ["web001", "web002", "web003"]),
        ("rack[1:2]-node[a:b]", ["rack1-nodea", "rack1-nodeb", "rack2-nodea", "rack2-nodeb"]),
        ("plain.example.com", ["plain.example.com"]),
    ],
)
def test_expand_hosts(pattern: str, expected: list[str]) -> None:
    assert expand_hosts(pattern) == expected


def test_letter_range_spans_cases() -> None:
    assert expand_hosts("h[y:B]") == ["hy", "hz", "hA", "hB"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("web[1:2:3:4]", "[begin:end] or [begin:end:step]"),
        ("web[1:]", "end of the range is missing"),
        ("web[01:5]", "same length"),
        ("web[5:1]", "begin must not be after end"),
        ("web[f:a]", "begin must not be after end"),
        ("web[a:9]", "must both be numbers or both single letters"),
        ("h[Y:b]", "begin must not be after end"),  # letters run a..z then A..Z
        ("web[1:9:0]", "step must be a positive number"),
        ("web[1:9:x]", "step 'x' is not a number"),
    ],
)
def test_bad_ranges(pattern: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        expand_hosts(pattern)
    assert message in str(err.value)
    assert pattern in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("badwolf.example.com:5309", ("badwolf.example.com", 5309)),
        ("10.0.0.1:22", ("10.0.0.1", 22)),
        ("[fe80::1]:2222", ("fe80::1", 2222)),
        ("[::1]", ("::1", None)),
        ("fe80::1", ("fe80::1", None)),
        ("web[1:3]:2222", ("web[1:3]", 2222)),
        ("web[1:3]", ("web[1:3]", None)),
        ("plain", ("plain", None)),
    ],
)
def test_split_port(text: str, expected: tuple[str, int | None]) -> None:
    assert split_port(text) == expected


def test_expand_host_pattern_with_port() -> None:
    assert expand_host_pattern("web[1:2]:2222") == (["web1", "web2"], 2222)


def test_has_range_is_ansibles_test() -> None:
    assert has_range("web[1:2]")
    assert not has_range("web[1]")
    assert not has_range("host:22")
