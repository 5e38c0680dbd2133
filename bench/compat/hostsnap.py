"""Run ON a lab host (``python3 - < hostsnap.py``, stdlib only): its state as JSON on stdout.

Files under the configured roots (type, mode, owner, group, sha256 of contents or a link's
target), installed packages, systemd units (enablement and activity), users and groups.
Per-host noise is left out: identity (hostname, machine-id, ssh host keys; the host's name in a
file's contents hashes as a placeholder), logs, caches,
fleet's and Ansible's own state, temporary directories, login sessions, and the password
hashes' salts (only whether an account has a password, none, or is locked).
"""

import grp
import hashlib
import json
import os
import pwd
import re
import socket
import stat
import subprocess

ROOTS = ["/etc", "/opt", "/srv", "/home", "/root", "/usr/local", "/var/www", "/var/spool/cron",
         "/usr/lib/systemd/system", "/lib/systemd/system"]
SKIP_EXACT = {
    "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/machine-id", "/etc/mtab",
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/passwd-", "/etc/group-",
    "/etc/subuid-", "/etc/subgid-", "/etc/.pwd.lock", "/etc/ld.so.cache", "/root/.bash_history",
    "/root/.lesshst", "/root/.python_history", "/root/.wget-hsts", "/root/.viminfo",
    "/etc/ssh/ssh_known_hosts", "/root/.ssh/known_hosts", "/var/lib/dbus/machine-id",
}
SKIP_UNDER = ("/root/.ansible", "/root/.cache", "/root/.local/state/fleet", "/var/lib/fleet",
              "/etc/ssh/ssh_host_", "/home/fleet/.ansible", "/home/fleet/.cache", "/tmp", "/var/tmp",
              "/var/log", "/var/cache")
# Contents made at random by a package's install script: compared by type, mode and owner only.
RANDOM_CONTENT = {"/etc/ssl/private/ssl-cert-snakeoil.key", "/etc/ssl/certs/ssl-cert-snakeoil.pem",
                  "/etc/mysql/debian.cnf"}
BACKUP = re.compile(r"\.\d+\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$")
SESSION_UNITS = re.compile(r"^(user@|user-runtime-dir@|session-|sshd@|ssh@|getty@|serial-getty@)")


def _name(table, ident):
    try:
        return table(ident)[0]
    except KeyError:
        return str(ident)


def _skipped(path):
    return path in SKIP_EXACT or any(path == p or path.startswith(p.rstrip("/") + "/") or
                                     (p.endswith("_") and path.startswith(p)) for p in SKIP_UNDER)


# The host's own names as file contents hold them (a role writes root@{{ ansible_fqdn }}):
# replaced by one placeholder before hashing, so that twins with different names compare equal.
IDENTITY = sorted({n.encode() for n in (socket.gethostname(), socket.getfqdn()) if len(n) >= 4},
                  key=len, reverse=True)
# A certificate's subject-hash link (c_rehash) to the snakeoil certificate, whose subject is
# the host's name: its name differs between twins
SUBJECT_HASH_LINK = re.compile(r"^/etc/ssl/certs/[0-9a-f]{8}\.\d+$")


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size <= (4 << 20):
            content = handle.read()
            for name in IDENTITY:
                content = content.replace(name, b"<host>")
            h.update(content)
        else:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def files():
    found = {}
    for root in ROOTS:
        if not os.path.lexists(root) or os.path.islink(root) and root != "/lib/systemd/system":
            continue
        for top, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not _skipped(os.path.join(top, d)))
            for entry in [top] + [os.path.join(top, n) for n in sorted(names)]:
                if _skipped(entry) or entry in found:
                    continue
                try:
                    st = os.lstat(entry)
                except OSError:
                    continue
                owner = f"{_name(pwd.getpwuid, st.st_uid)}:{_name(grp.getgrgid, st.st_gid)}"
                mode = f"{stat.S_IMODE(st.st_mode):04o}"
                if stat.S_ISLNK(st.st_mode):
                    desc = "link -> " + os.readlink(entry)
                    if SUBJECT_HASH_LINK.match(entry) and desc.endswith("ssl-cert-snakeoil.pem"):
                        entry = "/etc/ssl/certs/<subject hash of the snakeoil certificate>"
                elif stat.S_ISDIR(st.st_mode):
                    desc = f"dir {mode} {owner}"
                elif stat.S_ISREG(st.st_mode):
                    content = "random" if entry in RANDOM_CONTENT else _digest(entry)
                    desc = f"file {mode} {owner} {content}"
                else:
                    desc = f"other {mode} {owner}"
                found[BACKUP.sub(".BACKUP~", entry)] = desc
    return found


def _lines(command):
    try:
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, timeout=60).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []


def packages():
    found = {}
    for line in _lines(["dpkg-query", "-W", "-f=${binary:Package}\t${Version}\t${db:Status-Abbrev}\n"]):
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].strip() == "ii":
            found[parts[0]] = parts[1]
    return found


def units():
    found = {}
    kinds = "--type=service,socket,timer,path,mount"
    for line in _lines(["systemctl", "list-unit-files", "--no-legend", "--no-pager", kinds]):
        parts = line.split()
        if len(parts) >= 2 and not SESSION_UNITS.match(parts[0]):
            found[parts[0]] = parts[1]
    for line in _lines(["systemctl", "list-units", "--all", "--no-legend", "--no-pager", "--plain", kinds]):
        parts = line.split()
        if len(parts) >= 4 and not SESSION_UNITS.match(parts[0]) and not parts[0].endswith(".mount"):
            found[parts[0]] = "{} {}".format(found.get(parts[0], "-"), parts[2])
    return found


def accounts():
    users = {}
    shadow = {}
    try:
        with open("/etc/shadow") as handle:
            for line in handle:
                parts = line.rstrip("\n").split(":")
                if len(parts) > 1:
                    pw = parts[1]
                    shadow[parts[0]] = ("locked" if pw.startswith("!") else "none" if pw in ("", "*")
                                        else "hash")
    except OSError:
        pass
    for entry in pwd.getpwall():
        fields = (entry.pw_uid, entry.pw_gid, entry.pw_gecos, entry.pw_dir, entry.pw_shell,
                  shadow.get(entry.pw_name, "?"))
        users[entry.pw_name] = ":".join(str(f) for f in fields)
    groups = {g.gr_name: "{}:{}".format(g.gr_gid, ",".join(sorted(g.gr_mem))) for g in grp.getgrall()}
    return users, groups


def main():
    users, groups = accounts()
    print(json.dumps({"files": files(), "packages": packages(), "units": units(), "users": users,
                      "groups": groups}, sort_keys=True))


main()
