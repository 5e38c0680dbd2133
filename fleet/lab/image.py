"""The lab's base images: debootstrap of a Debian release, customised, then ``docker import``.

No registry is involved. One image per release (fleet.lab.releases), tagged
``fleet-lab:RELEASE-HASH`` by a hash of its recipe, so a second ``fleet lab up`` reuses it;
changing the recipe (packages, setup script) builds a new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fleet.errors import FleetError
from fleet.lab.mirror import debian_mirror
from fleet.lab.releases import DEFAULT_RELEASE, release

REPOSITORY = "fleet-lab"
SCRIPTS = Path("/usr/share/debootstrap/scripts")
PACKAGES = ("openssh-server", "python3", "sudo", "systemd-sysv", "iproute2", "dbus", "ca-certificates")
LAB_UID = 1000  # the sudo user "fleet"
NOSUDO_UID = 1001  # a user without sudo rights, for become tests
PWSUDO_UID = 1002  # a user whose sudo asks for a password (-K tests); lab-only password below
PWSUDO_PASSWORD = "fleet-lab-sudo"

# Units that make no sense (or hang) in a container; sshd's host keys are made at first boot.
SETUP = f"""
set -eu
export DEBIAN_FRONTEND=noninteractive
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/fleet-hostkeys.service <<'UNIT'
[Unit]
Description=Generate this host's SSH host keys (ed25519, ecdsa)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
ExecStart=/usr/bin/ssh-keygen -q -t ecdsa -N "" -f /etc/ssh/ssh_host_ecdsa_key

[Install]
WantedBy=multi-user.target
UNIT
printf '%s\\n' 'HostKey /etc/ssh/ssh_host_ed25519_key' 'HostKey /etc/ssh/ssh_host_ecdsa_key' \\
    'PasswordAuthentication no' 'UseDNS no' 'MaxStartups 100:30:200' > /etc/ssh/sshd_config.d/fleet-lab.conf
systemctl enable fleet-hostkeys.service ssh.service
systemctl mask getty@.service console-getty.service serial-getty@.service systemd-udevd.service \\
    systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-logind.service \\
    systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \\
    systemd-firstboot.service systemd-modules-load.service
useradd -m -u {LAB_UID} -s /bin/bash fleet
useradd -m -u {NOSUDO_UID} -s /bin/bash nosudo
useradd -m -u {PWSUDO_UID} -s /bin/bash pwsudo
echo 'pwsudo:{PWSUDO_PASSWORD}' | chpasswd
echo 'pwsudo ALL=(ALL) ALL' > /etc/sudoers.d/pwsudo
chmod 0440 /etc/sudoers.d/pwsudo
usermod -p '*' fleet
usermod -p '*' nosudo
usermod -p '*' root
echo 'fleet ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/fleet
chmod 0440 /etc/sudoers.d/fleet
for home in /root /home/fleet /home/nosudo /home/pwsudo; do mkdir -p "$home/.ssh"; chmod 700 "$home/.ssh"; done
chown -R fleet:fleet /home/fleet/.ssh
chown -R nosudo:nosudo /home/nosudo/.ssh
chown -R pwsudo:pwsudo /home/pwsudo/.ssh
echo 'lab' > /etc/hostname
apt-get clean
"""


def recipe(name: str = DEFAULT_RELEASE) -> dict[str, object]:
    """What an image of release ``name`` is made of; its hash is in the image's tag."""
    # bookworm's recipe is the same dict as before there were releases: its hash, and so its
    # image, stay the same.
    return {"suite": release(name).name, "variant": "minbase", "packages": list(PACKAGES),
            "setup": SETUP + release(name).setup, "format": 1}


def _digest(name: str) -> str:
    return hashlib.sha256(json.dumps(recipe(name), sort_keys=True).encode()).hexdigest()[:12]


def image_tag(name: str = DEFAULT_RELEASE) -> str:
    """The tag of release ``name``'s image, e.g. ``fleet-lab:bookworm-6da0934854f8``."""
    return f"{REPOSITORY}:{release(name).name}-{_digest(name)}"


def find_image(client: object, name: str = DEFAULT_RELEASE) -> str | None:
    """Release ``name``'s image tag if its image exists (bookworm's under its tag from before
    releases is tagged anew, not rebuilt), else None."""
    tag = image_tag(name)
    if image_exists(client, tag):
        return tag
    legacy = f"{REPOSITORY}:{_digest(name)}"
    if name == DEFAULT_RELEASE and image_exists(client, legacy):
        client.images.get(legacy).tag(REPOSITORY, tag.split(":", 1)[1])  # type: ignore[attr-defined]
        return tag
    return None


def ensure_image(client: object, name: str = DEFAULT_RELEASE, say: Callable[[str], None] = print) -> str:
    """Release ``name``'s image tag, built first when it does not exist yet."""
    tag = find_image(client, name)
    if tag is None:
        tag = image_tag(name)
        build_image(tag, say, name)
    return tag


def image_exists(client: object, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)  # type: ignore[attr-defined]
    except docker.errors.ImageNotFound:
        return False
    return True


def build_image(tag: str, say: Callable[[str], None] = print, name: str = DEFAULT_RELEASE) -> None:
    """debootstrap of release ``name`` + setup in a chroot + ``docker import``. Needs root,
    debootstrap (one that knows the release) and docker."""
    suite = release(name)
    if os.geteuid() != 0:
        raise FleetError("building the lab image needs root (debootstrap and chroot)")
    if shutil.which("debootstrap") is None:
        raise FleetError("debootstrap is not installed (apt-get install debootstrap)")
    if not (SCRIPTS / suite.name).exists():
        raise FleetError(f"this debootstrap does not know Debian {suite.name} (no {SCRIPTS / suite.name}): "
                         f"install a newer debootstrap")
    mirror = debian_mirror()
    root = tempfile.mkdtemp(prefix="fleet-lab-rootfs-", dir="/var/tmp")
    started = time.monotonic()
    try:
        say(f"building {tag}: debootstrap {suite.name} from {mirror} (a few minutes, once)")
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", suite.name, root, mirror],
             "debootstrap")
        _run(["chroot", root, "/bin/sh", "-c", SETUP + suite.setup], "image setup")
        say("importing into docker")
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "--change", f"CMD {json.dumps(suite.init)}", "--change", "LABEL fleet.lab.image=1",
             "--change", f"LABEL fleet.lab.release={suite.name}", "-", tag],
            stdin=tar.stdout, capture_output=True, text=True,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise FleetError(f"docker import failed: {imported.stderr.strip() or 'tar failed'}")
        say(f"built {tag} in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise FleetError(f"{what} failed (exit {result.returncode}):\n{tail}")
