"""Host patterns (Ansible's "Patterns: targeting hosts and groups") and --limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError
from fleet.inventory import Inventory
from fleet.inventory.patterns import order_parts, split_pattern, split_subscript

HOSTS = """
[webservers]
web1.example.com
web2.example.com
web3.example.com

[dbservers]
db1.example.com
db2.example.com

[staging]
web1.example.com
db1.example.com

[production]
web2.example.com
web3.example.com
db2.example.com

[phoenix]
web3.example.com

[atlanta:children]
webservers

[other]
192.0.2.50
192.0.2.51
one.example.com
"""

# Ansible's order for "all": its own hosts, then its descendants level by level. webservers
# sits under atlanta (level 2), so its hosts come after those of staging/production (level 1).
ALL = [
    "db1.example.com",
    "db2.example.com",
    "web1.example.com",
    "web2.example.com",
    "web3.example.com",
    "192.0.2.50",
    "192.0.2.51",
    "one.example.com",
]

# Host globs and regexes scan hosts in the order they were defined.
DEFINED = [
    "web1.example.com",
    "web2.example.com",
    "web3.example.com",
    "db1.example.com",
    "db2.example.com",
    "192.0.2.50",
    "192.0.2.51",
    "one.example.com",
]


@pytest.fixture
def inv(write_tree) -> Inventory:
    root = write_tree({"hosts": HOSTS})
    return Inventory.load(str(root / "hosts"))


def select(inv: Inventory, pattern: str, limit: str | None = None) -> list[str]:
    return [h.name for h in inv.select(pattern, limit)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # The "Common patterns" table.
        ("all", ALL),
        ("*", ALL),
        ("web1.example.com", ["web1.example.com"]),
        ("web1.example.com:db1.example.com", ["web1.example.com", "db1.example.com"]),
        ("web1.example.com,db1.example.com", ["web1.example.com", "db1.example.com"]),
        ("webservers", ["web1.example.com", "web2.example.com", "web3.example.com"]),
        (
            "webservers:dbservers",
            [
                "web1.example.com",
                "web2.example.com",
                "web3.example.com",
                "db1.example.com",
                "db2.example.com",
            ],
        ),
        ("webservers,dbservers", None),  # None: same result as with ':'
        ("webservers:!phoenix", ["web1.example.com", "web2.example.com"]),
        ("webservers:&staging", ["web1.example.com"]),
        # "You can combine them": (web or db) and staging, not phoenix.
        ("webservers:dbservers:&staging:!phoenix", ["web1.example.com", "db1.example.com"]),
        # Evaluation order: unions, then intersections, then exclusions, whatever the order written.
        ("!phoenix:&staging:webservers:dbservers", ["web1.example.com", "db1.example.com"]),
        (
            "!webservers",
            ["db1.example.com", "db2.example.com", "192.0.2.50", "192.0.2.51", "one.example.com"],
        ),
        ("&staging", ["db1.example.com", "web1.example.com"]),
        # Wildcards and regexes.
        ("*.example.com", [h for h in DEFINED if h.endswith(".example.com")]),
        ("192.0.2.*", ["192.0.2.50", "192.0.2.51"]),
        ("*.com", [h for h in DEFINED if h.endswith(".com")]),
        ("one*.com:dbservers", ["one.example.com", "db1.example.com", "db2.example.com"]),
        ("~(web|db).*\\.example\\.com", [h for h in DEFINED if h.startswith(("web", "db"))]),
        ("~web[12]", ["web1.example.com", "web2.example.com"]),
        ("web?.example.com", ["web1.example.com", "web2.example.com", "web3.example.com"]),
        # Group globs match groups (all their hosts) as well as hosts.
        (
            "*servers",
            [
                "web1.example.com",
                "web2.example.com",
                "web3.example.com",
                "db1.example.com",
                "db2.example.com",
            ],
        ),
        ("atlanta", ["web1.example.com", "web2.example.com", "web3.example.com"]),
        ("ungrouped", []),
        # Subscripts (inclusive ranges, as Ansible's code).
        ("webservers[0]", ["web1.example.com"]),
        ("webservers[-1]", ["web3.example.com"]),
        ("webservers[0:1]", ["web1.example.com", "web2.example.com"]),
        ("webservers[0:2]", ["web1.example.com", "web2.example.com", "web3.example.com"]),
        ("webservers[1:]", ["web2.example.com", "web3.example.com"]),
        ("webservers[:1]", ["web1.example.com", "web2.example.com"]),
        ("webservers[1]:dbservers[0]", ["web2.example.com", "db1.example.com"]),
        ("webservers[0]:&staging", ["web1.example.com"]),
        # Nothing matches: an empty list, not an error.
        ("nosuchgroup", []),
        ("nosuch*", []),
        ("webservers:&dbservers", []),
        ("", []),
        ("webservers[7:9]", []),
        # Duplicates removed, first occurrence kept.
        (
            "staging:webservers:staging",
            ["web1.example.com", "db1.example.com", "web2.example.com", "web3.example.com"],
        ),
    ],
)
def test_patterns(inv: Inventory, pattern: str, expected: list[str] | None) -> None:
    if expected is None:
        expected = select(inv, pattern.replace(",", ":"))
        assert expected
    assert select(inv, pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "limit", "expected"),
    [
        ("all", "webservers", ["web1.example.com", "web2.example.com", "web3.example.com"]),
        ("webservers", "staging:phoenix", ["web1.example.com", "web3.example.com"]),
        ("webservers", "!phoenix", ["web1.example.com", "web2.example.com"]),
        ("webservers", "db1.example.com", []),
        ("all", "web2.example.com,db2.example.com", ["db2.example.com", "web2.example.com"]),
        ("dbservers:webservers", "*2.example.com", ["db2.example.com", "web2.example.com"]),
    ],
)
def test_limit_is_an_intersection(
    inv: Inventory, pattern: str, limit: str, expected: list[str]
) -> None:
    assert select(inv, pattern, limit) == expected


def test_limit_from_file(inv: Inventory, tmp_path: Path) -> None:
    limit_file = tmp_path / "retry.txt"
    limit_file.write_text("web3.example.com\n\ndb1.example.com\n")
    assert select(inv, "all", f"@{limit_file}") == ["db1.example.com", "web3.example.com"]
    assert select(inv, "webservers", [f"@{limit_file}", "web1.example.com"]) == [
        "web1.example.com",
        "web3.example.com",
    ]


def test_limit_file_missing(inv: Inventory, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        inv.select("all", f"@{tmp_path / 'none.txt'}")
    assert str(err.value).startswith(f"{tmp_path / 'none.txt'}: cannot read limit file")


def test_subscript_out_of_range_is_an_error(inv: Inventory) -> None:
    with pytest.raises(InputError) as err:
        inv.select("webservers[5]")
    assert "no hosts matched the subscripted pattern 'webservers[5]'" in str(err.value)


def test_bad_regex(inv: Inventory) -> None:
    with pytest.raises(InputError) as err:
        inv.select("~web(")
    assert "invalid host pattern '~web('" in str(err.value)


def test_implicit_localhost(inv: Inventory) -> None:
    selected = inv.select("localhost")
    assert [h.name for h in selected] == ["localhost"]
    assert selected[0].implicit
    assert selected[0].vars == {"ansible_connection": "local"}
    assert "localhost" not in inv.hosts
    assert "localhost" not in inv.groups_map()["all"]
    assert select(inv, "all") == ALL
    assert select(inv, "webservers:localhost")[-1] == "localhost"
    assert select(inv, "127.0.0.1") == ["127.0.0.1"]
    assert select(inv, "localhost", "webservers") == []


def test_explicit_localhost_is_used(write_tree) -> None:
    root = write_tree({"hosts": "localhost ansible_connection=local x=1\n"})
    inv = Inventory.load(str(root / "hosts"))
    host = inv.select("localhost")[0]
    assert not host.implicit
    assert host.vars == {"ansible_connection": "local", "x": 1}
    assert select(inv, "all") == ["localhost"]


def test_ipv6_hosts(write_tree) -> None:
    root = write_tree({"hosts": "[v6]\nfe80::1\n[fe80::2]:2222\n"})
    inv = Inventory.load(str(root / "hosts"))
    assert list(inv.hosts) == ["fe80::1", "fe80::2"]
    assert inv.host_vars_merged("fe80::2") == {"ansible_port": 2222}
    assert select(inv, "fe80::1") == ["fe80::1"]


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("a:b", ["a", "b"]),
        ("a,b[1], c[2:3] , d", ["a", "b[1]", "c[2:3]", "d"]),
        ("web[1:3]", ["web[1:3]"]),
        ("web[1:3]:!web2", ["web[1:3]", "!web2"]),
        ("all:&staging:!phoenix", ["all", "&staging", "!phoenix"]),
        ("fe80::1", ["fe80::1"]),
        ("host:22", ["host:22"]),
        ("a:b,c", ["a:b", "c"]),
        ("  ", []),
    ],
)
def test_split_pattern(pattern: str, parts: list[str]) -> None:
    assert split_pattern(pattern) == parts


def test_order_parts() -> None:
    assert order_parts(["!c", "&b", "a", "d"]) == ["a", "d", "&b", "!c"]
    assert order_parts(["!c"]) == ["all", "!c"]


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("web[0]", ("web", (0, None))),
        ("web[-2]", ("web", (-2, None))),
        ("web[1:3]", ("web", (1, 3))),
        ("web[2:]", ("web", (2, -1))),
        ("web[:2]", ("web", (0, 2))),
        ("web[1-3]", ("web", (1, 3))),
        ("~web[0]", ("~web[0]", None)),
        ("web[ab]", ("web[ab]", None)),
    ],
)
def test_split_subscript(part: str, expected: tuple) -> None:
    assert split_subscript(part) == expected


@pytest.mark.parametrize(("pattern", "limit", "unmatched"), [
    ("webservers:&staging:!phoenix", None, []),
    ("webservers:nosuch:!gone", None, ["nosuch", "!gone"]),
    ("web*", "~db[0-9].*,zzz*", ["zzz*"]),
    ("all", "webservers[0],~^no", ["~^no"]),
    ("localhost,127.0.0.1", None, []),  # the implicit localhost
])
def test_unmatched_parts_as_ansible_warns_about_them(inv: Inventory, pattern: str, limit: str | None,
                                                     unmatched: list[str]) -> None:
    assert inv.unmatched(pattern, limit) == unmatched
