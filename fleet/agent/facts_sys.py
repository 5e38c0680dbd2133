"""System facts of Ansible's minimal subset that need no command: security modules, kernel
command line, FIPS, LSB, distribution file, SSH host keys, process ids, local facts (facts.d).
Stdlib only, Python >= 3.8.
"""

from __future__ import annotations

import configparser
import ctypes
import glob
import json
import os

from fleet.agent.facts_net import read

SSH_KEY_TYPES = ("dsa", "rsa", "ecdsa", "ed25519")


def security() -> dict:
    """``apparmor`` and ``selinux`` (``selinux_python_present``: libselinux), with Ansible's wording."""
    apparmor = "enabled" if os.path.exists("/sys/kernel/security/apparmor") else "disabled"
    facts: dict = {"apparmor": {"status": apparmor}}
    present = _libselinux()
    facts["selinux_python_present"] = present
    if not present:
        facts["selinux"] = {"status": "Missing selinux Python library"}
    elif not os.path.exists("/sys/fs/selinux/enforce"):
        facts["selinux"] = {"status": "disabled"}
    else:
        enforcing = read("/sys/fs/selinux/enforce") == "1"
        facts["selinux"] = {"status": "enabled", "mode": "enforcing" if enforcing else "permissive",
                            "policyvers": int(read("/sys/fs/selinux/policyvers", "0") or 0)}
    return facts


def _libselinux() -> bool:
    """Whether libselinux loads (Ansible reaches SELinux through it with ctypes, not a Python package)."""
    try:
        ctypes.CDLL("libselinux.so.1")
    except OSError:
        return False
    return True


def cmdline() -> dict:
    """``cmdline`` (last value of a key wins) and ``proc_cmdline`` (repeated keys as lists)."""
    flat: dict = {}
    grouped: dict = {}
    for word in read("/proc/cmdline").split():
        key, sep, value = word.partition("=")
        item = value if sep else True
        flat[key] = item
        if key in grouped:
            grouped[key] = (grouped[key] if isinstance(grouped[key], list) else [grouped[key]]) + [item]
        else:
            grouped[key] = item
    return {"cmdline": flat, "proc_cmdline": grouped}


def lsb(os_release: dict, distribution: str) -> dict:
    """``lsb``: what ``lsb_release`` would say where it is installed, or /etc/lsb-release."""
    found: dict = {}
    if os.path.exists("/usr/bin/lsb_release") or os.path.exists("/bin/lsb_release"):
        found = {"id": distribution, "description": os_release.get("PRETTY_NAME", ""),
                 "release": os_release.get("VERSION_ID", ""), "codename": os_release.get("VERSION_CODENAME", "")}
    else:
        keys = {"DISTRIB_ID": "id", "DISTRIB_RELEASE": "release", "DISTRIB_DESCRIPTION": "description",
                "DISTRIB_CODENAME": "codename"}
        for line in read("/etc/lsb-release").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in keys:
                found[keys[key.strip()]] = value.strip().strip("\"'")
    found = {k: v for k, v in found.items() if v}
    if "release" in found:
        found["major_release"] = found["release"].split(".")[0]
    return found


def ssh_host_keys() -> dict:
    facts = {}
    for kind in SSH_KEY_TYPES:
        for folder in ("/etc/ssh", "/etc/openssh", "/etc"):
            fields = read(f"{folder}/ssh_host_{kind}_key.pub").split()
            if len(fields) >= 2:
                facts[f"ssh_host_key_{kind}_public"] = fields[1]
                facts[f"ssh_host_key_{kind}_public_keytype"] = fields[0]
                break
    return facts


def ids() -> dict:
    return {"real_user_id": os.getuid(), "effective_user_id": os.geteuid(),
            "real_group_id": os.getgid(), "effective_group_id": os.getegid()}


def is_chroot() -> bool:
    try:
        here, init = os.stat("/"), os.stat("/proc/1/root/.")
    except OSError:
        return False
    return (here.st_ino, here.st_dev) != (init.st_ino, init.st_dev)


def fips() -> bool:
    return read("/proc/sys/crypto/fips_enabled") == "1"


def local_facts(fact_path: str) -> dict:
    """``ansible_local``: each ``*.fact`` of ``fact_path`` by its name, parsed as JSON, else as
    INI (sections of strings); one that is neither says so, as Ansible does. Executable fact
    files are not run (a difference fleet documents): their entry says so."""
    found: dict = {}
    for path in sorted(glob.glob(os.path.join(fact_path, "*.fact"))):
        name = os.path.basename(path)[:-len(".fact")]
        if os.access(path, os.X_OK):
            found[name] = "error loading fact - fleet does not run executable fact files"
            continue
        text = read(path)
        try:
            found[name] = json.loads(text)
            continue
        except ValueError:
            pass
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            found[name] = {s: dict(parser.items(s)) for s in parser.sections()}
        except configparser.Error:
            found[name] = f"error loading facts as JSON or ini - please check content: {path}"
    return found
