"""sshd_config, nftables, networkd and hosts: the module contract (documented Params, sane
aliases, the connection-safety hooks) and a real run under Python 3.8 (targets may be that old)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import textwrap

import pytest

from tests.conftest import require

from .conftest import ROOT, load_module
from .test_module_contract import _python38

NAMES = ["sshd_config", "nftables", "networkd", "hosts"]
SENSITIVE = {"sshd_config", "nftables", "networkd"}


@pytest.mark.parametrize("name", NAMES)
def test_contract(name: str) -> None:
    """Beyond test_module_contract (size, docstring, imports, aliases): with no Ansible twin to
    look up, every parameter is documented here, and the connection-safety hooks exist."""
    module = load_module(name)
    doc = (module.__doc__ or "").strip()
    fields = {f.name for f in dataclasses.fields(module.Params)}
    for field in fields:
        assert re.search(f"``{field}(``|:)", doc), f"{name}: {field} undocumented"
    assert callable(module.observe) and callable(module.desired) and callable(module.apply)
    if name in SENSITIVE:
        assert module.CONNECTION_SENSITIVE is True
        assert callable(module.snapshot) and callable(module.revert)
    else:
        assert not getattr(module, "CONNECTION_SENSITIVE", False)


SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile, types
    ROOT = sys.argv[1]
    sys.path.insert(0, ROOT)
    from fleet.agent import runner
    from fleet.agent.hostio import HostReader, HostWriter

    def load(name):
        module = types.ModuleType("fleet_module_" + name)
        sys.modules[module.__name__] = module
        with open(os.path.join(ROOT, "modules", name + ".py")) as handle:
            exec(compile(handle.read(), name, "exec"), module.__dict__)
        return module

    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "hosts"), "w") as handle:
        handle.write("127.0.0.1 localhost\\n")
    with open(os.path.join(tmp, "sshd_config"), "w") as handle:
        handle.write("Include " + tmp + "/d/*.conf\\nUsePAM yes\\n")
    calls = [
        ("hosts", {"path": tmp + "/hosts", "ip": "10.0.0.1", "hostnames": ["db"]}),
        ("networkd", {"name": "10-eth0", "dir": tmp + "/net", "reload": False,
                      "sections": {"Match": {"Name": "eth0"}, "Network": {"DNS": ["10.0.0.53"]}}}),
        ("sshd_config", {"path": tmp + "/d/50.conf", "main_config": tmp + "/sshd_config",
                         "validate": None, "reload": False, "settings": {"UseDNS": False}}),
        ("nftables", {"path": tmp + "/nft.conf", "validate": None, "reload": False,
                      "content": "flush ruleset\\ntable inet f {\\n}\\n"}),
    ]
    out = []
    for name, params in calls:
        module = load(name)
        for check in (True, False, False):
            result = runner.execute(module, params, check, True)
            out.append([name, check, result["status"], result["msg"]])
        if hasattr(module, "snapshot"):
            p = module.Params(**params)
            module.revert(p, HostWriter(), json.loads(json.dumps(module.snapshot(p, HostReader()))))
    print(json.dumps(out))
""")


def test_modules_run_on_python38() -> None:
    python = _python38()
    require(python is not None, "no Python 3.8 interpreter on this machine")
    assert python is not None
    proc = subprocess.run([python, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    statuses = [(name, status) for name, _check, status, _msg in json.loads(proc.stdout)]
    order = ["hosts", "networkd", "sshd_config", "nftables"]
    assert statuses == [(name, s) for name in order for s in ("changed", "changed", "ok")], proc.stdout
