"""nftables: ruleset structure parsing and comparison, the CAP_NET_ADMIN-less path, and the
real ``nft`` (validate, load, drift, snapshot/revert) inside a private network namespace
(``unshare -n``), so the machine's own firewall is never touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fleet.agent.hostio import HostReader, HostWriter
from tests.conftest import require

from .conftest import ROOT, load_module

M = load_module("nftables")

RULESET = """\
#!/usr/sbin/nft -f
flush ruleset
define SSH = 22

table inet filter {
    set blocked {
        type ipv4_addr; flags interval
        elements = { 192.0.2.0/24, 198.51.100.7 }
    }
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept   # replies
        iif lo accept
        tcp dport { $SSH, 80 } accept
        ip saddr @blocked drop
    }
    chain forward { type filter hook forward priority 0; policy drop; }
    chain output {
        type filter hook output priority 0;
    }
    chain helper {
        counter
    }
}
"""

LISTING = """\
table inet filter {
\tset blocked {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 192.0.2.0/24, 198.51.100.7 }
\t}

\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state established,related accept
\t\tiif "lo" accept
\t\ttcp dport { 22, 80 } accept
\t\tip saddr @blocked drop
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t}

\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t}

\tchain helper {
\t\tcounter
\t}
}
"""


def test_structure_of_a_file_and_of_its_listing_agree():
    want = M.structure(RULESET)
    assert want["flush"] is True
    table = want["tables"][("inet", "filter")]
    assert table["chains"] == {"input": ["input", "drop"], "forward": ["forward", "drop"],
                               "output": ["output", None], "helper": [None, None]}
    assert table["sets"] == ["blocked"]
    assert M.compare(want, M.structure(LISTING)) == "matches"


def test_structure_command_syntax_and_default_family():
    text = ("add table filter\nadd chain ip filter input { type filter hook input priority 0 ; "
            "policy accept ; }\nadd rule ip filter input tcp dport { 22 } accept\n"
            "table ip6 t6 { chain c { type filter hook output priority 0; policy drop; } ; }\n"
            "delete table ip6 t6\n")
    got = M.structure(text)
    assert got["tables"] == {("ip", "filter"): {"chains": {"input": ["input", "accept"]}, "sets": []}}
    assert got["flush"] is False


@pytest.mark.parametrize(("listing", "expected"), [
    ("", "empty"),
    (LISTING.replace("policy drop;", "policy accept;", 1),
     "differs: table inet filter chain input: hook/policy input/accept, the content input/drop"),
    (LISTING.replace("\tchain helper {\n\t\tcounter\n\t}\n", ""),
     "differs: table inet filter has chains ['forward', 'input', 'output'], "
     "the content ['forward', 'helper', 'input', 'output']"),
    ("table ip nat {\n}\n", "differs: table inet filter is not loaded"),
    (LISTING + "table ip nat {\n\tchain POSTROUTING {\n\t}\n}\n", "matches"),  # not ours: ignored
    (LISTING.replace("set blocked", "set other"),
     "differs: table inet filter has sets ['other'], the content ['blocked']"),
])
def test_compare(listing, expected):
    assert M.compare(M.structure(RULESET), M.structure(listing)) == expected


def test_compare_flush_only_content():
    assert M.compare(M.structure("flush ruleset\n"), M.structure("")) == "matches"
    assert M.compare(M.structure("flush ruleset\n"), M.structure("table ip t {\n}\n")).startswith(
        "differs: tables are loaded that the content flushes")


def test_include_followed(tmp_path):
    (tmp_path / "10-a.nft").write_text("table inet a {\n chain c {\n }\n}\n")
    (tmp_path / "20-b.nft").write_text("table inet b {\n}\n")
    got = M.structure(f'flush ruleset\ninclude "{tmp_path}/*.nft"\n', M.read_include)
    assert sorted(got["tables"]) == [("inet", "a"), ("inet", "b")]


def test_flushes():
    assert M.flushes("#!/usr/sbin/nft -f\n  flush ruleset\n")
    assert M.flushes("destroy table inet filter\ntable inet filter {\n}\n")
    assert not M.flushes("# flush ruleset\ntable inet filter {\n}\n")


# -- a host where nft is not permitted (a container without CAP_NET_ADMIN) -------------------


@pytest.fixture
def denied_nft(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nft"
    fake.write_text("#!/bin/sh\necho 'netlink: Error: cache initialization failed: "
                    "Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return fake


def test_without_net_admin_file_written_with_honest_warnings(tmp_path, denied_nft, run):
    target = tmp_path / "nftables.conf"
    args = {"path": str(target), "content": RULESET}
    check = run("nftables", args, check=True)
    assert check["status"] == "changed" and check["diff"]["fields"] == ["content"]
    result = run("nftables", args)
    assert result["status"] == "changed", result
    assert target.read_text() == RULESET
    assert result["warnings"] == [
        "ruleset: persisted, not loaded: nft needs CAP_NET_ADMIN, which this host does not have",
        "validate: not validated: nft needs CAP_NET_ADMIN, which this host does not have"]
    assert result["data"]["ruleset"].startswith("unknown: nft needs CAP_NET_ADMIN")
    assert run("nftables", args)["status"] == "ok"


# -- the real nft, in a private network namespace ---------------------------------------------

NETNS_SCRIPT = textwrap.dedent("""
    import json, subprocess, sys, types
    sys.path.insert(0, sys.argv[1])
    from fleet.agent import runner
    from fleet.agent.hostio import HostReader, HostWriter
    module = types.ModuleType("fleet_module_nftables")
    sys.modules[module.__name__] = module
    exec(compile(open(sys.argv[1] + "/modules/nftables.py").read(), "nftables", "exec"), module.__dict__)

    def listing():
        return subprocess.run(["nft", "-s", "list", "ruleset"], capture_output=True, text=True).stdout

    out = []
    for step in json.loads(sys.argv[2]):
        kind = step[0]
        if kind == "run":
            _, params, check = step
            out.append(runner.execute(module, params, check, True))
        elif kind == "nft":
            out.append(subprocess.run(["nft"] + step[1], capture_output=True, text=True).returncode)
        elif kind == "list":
            out.append(listing())
        elif kind == "snapshot":
            out.append(module.snapshot(module.Params(**step[1]), HostReader()))
        elif kind == "revert":
            module.revert(module.Params(**step[1]), HostWriter(), out[step[2]])
            out.append(None)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def netns():
    """Run steps in a fresh network namespace; skip where that or nft is not possible."""
    nft, unshare = shutil.which("nft") or M.find_program("nft"), shutil.which("unshare")
    require(nft is not None and unshare is not None, "nft / unshare not installed (apt-get install nftables)")
    probe = subprocess.run([unshare, "-n", nft, "list", "ruleset"], capture_output=True, text=True)
    require(probe.returncode == 0, f"no private network namespace with nft here: {probe.stderr.strip()}")

    def steps(*items):
        proc = subprocess.run([unshare, "-n", sys.executable, "-c", NETNS_SCRIPT, str(ROOT),
                               json.dumps(list(items))], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return steps


def _p(target: Path, **kw):
    return {"path": str(target), "content": RULESET, "state": "present", "validate": "nft -c -f %s",
            "reload": True, "backup": False, "mode": None, **kw}


def test_apply_loads_then_ok_then_drift_detected_and_fixed(tmp_path, netns):
    target = tmp_path / "nftables.conf"
    params = _p(target)
    check, first, listed, again, _rc, drift, fixed = netns(
        ["run", params, True], ["run", params, False], ["list"], ["run", params, False],
        ["nft", ["delete", "chain", "inet", "filter", "helper"]], ["run", params, True],
        ["run", params, False])
    assert check["status"] == "changed"
    assert check["diff"]["before"]["ruleset"] == "empty" and check["diff"]["after"]["ruleset"] == "matches"
    assert first["status"] == "changed", first
    assert first["data"]["ruleset"] == "matches" and "warnings" not in first
    assert "tcp dport { 22, 80 } accept" in listed
    assert again["status"] == "ok"
    assert drift["status"] == "changed" and drift["diff"]["fields"] == ["ruleset"]
    assert "helper" in drift["diff"]["before"]["ruleset"]
    assert fixed["status"] == "changed" and fixed["data"]["ruleset"] == "matches"
    assert target.read_text() == RULESET


def test_invalid_ruleset_refused_nothing_replaced_nothing_loaded(tmp_path, netns):
    target = tmp_path / "nftables.conf"
    good = _p(target)
    bad = _p(target, content=RULESET.replace("policy drop;", "policy maybe;", 1))
    _first, refused, listed = netns(["run", good, False], ["run", bad, False], ["list"])
    assert refused["status"] == "failed"
    assert refused["msg"].startswith("nft refused the ruleset, nothing was replaced:")
    assert str(target) in refused["msg"] and ".fleet-" not in refused["msg"]
    assert target.read_text() == RULESET
    assert "policy drop" in listed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nftables.conf"]


def test_load_failure_puts_previous_file_back(tmp_path, netns):
    """Valid for nft -c but failing at load: a validator that accepts anything lets it through."""
    target = tmp_path / "nftables.conf"
    target.write_text("flush ruleset\n")
    broken = _p(target, content="flush ruleset\ntable inet t {\n chain c {\n  jump nowhere\n }\n}\n",
                validate=None)
    (result,) = netns(["run", broken, False])
    assert result["status"] == "failed"
    assert "the previous file was put back" in result["msg"]
    assert target.read_text() == "flush ruleset\n"


def test_without_flush_a_warning(tmp_path, netns):
    target = tmp_path / "nftables.conf"
    params = _p(target, content="table inet t {\n chain c {\n }\n}\n")
    (result,) = netns(["run", params, False])
    assert result["status"] == "changed"
    assert result["warnings"] == ["content: loaded without 'flush ruleset': nft -f added to the "
                                  "ruleset that was loaded instead of replacing it"]


@pytest.mark.parametrize("before", ["other-ruleset", "nothing"])
def test_snapshot_apply_revert_restores_file_and_running_ruleset(tmp_path, netns, before):
    target = tmp_path / "nftables.conf"
    old = "flush ruleset\ntable ip old {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n"
    setup = []
    if before == "other-ruleset":
        target.write_text(old)
        os.chmod(target, 0o600)
        setup = [["nft", ["-f", str(target)]]]
    params = _p(target)
    out = netns(*setup, ["list"], ["snapshot", params], ["run", params, False], ["list"],
                ["revert", params, len(setup) + 1], ["list"])
    listed_before, snap, applied, listed_applied, _none, listed_after = out[len(setup):]
    json.dumps(snap)
    assert applied["status"] == "changed"
    assert "table inet filter" in listed_applied and "table ip old" not in listed_applied
    assert listed_after == listed_before
    if before == "other-ruleset":
        assert target.read_text() == old and target.stat().st_mode & 0o777 == 0o600
    else:
        assert not target.exists() and listed_after == ""


def test_snapshot_without_nft_access_is_file_only(tmp_path, denied_nft):
    target = tmp_path / "nftables.conf"
    target.write_text("flush ruleset\n")
    snap = M.snapshot(M.Params(content=RULESET, path=str(target)), HostReader())
    assert snap["ruleset"] is None
    assert snap["files"][0]["path"] == str(target) and snap["files"][0]["content"]
    target.write_text("changed\n")
    M.revert(M.Params(content=RULESET, path=str(target), reload=False), HostWriter(), snap)
    assert target.read_text() == "flush ruleset\n"
