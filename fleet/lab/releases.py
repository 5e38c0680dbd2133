"""The Debian releases the lab builds hosts of, and what differs between them.

Every release gets the same customisation (users, sshd, systemd, keys: fleet.lab.image.SETUP);
what a release needs beyond that is here, each with its reason. What needs nothing: the package
names (the same on all three), /usr (debootstrap merges it on all three), and the sshd drop-in
directory (each release's sshd_config includes /etc/ssh/sshd_config.d/*.conf).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.errors import FleetError

DEFAULT_RELEASE = "bookworm"


@dataclass(frozen=True)
class Release:
    """One Debian release of lab hosts."""

    name: str
    version: int  # Debian's major version
    python: str  # the python3 it ships, which fleet's agent runs on
    # Shell run in the chroot after the common setup (empty: nothing more).
    setup: str = ""
    # Arguments to systemd (PID 1) besides /sbin/init; in a container it reads its "kernel
    # command line" from its own arguments.
    init_args: tuple[str, ...] = ()

    @property
    def init(self) -> list[str]:
        """The container's command."""
        return ["/sbin/init", *self.init_args]


# trixie: /etc/apt/sources.list becomes /etc/apt/sources.list.d/debian.sources, the deb822 format a
# trixie install writes (debootstrap still writes the one-line format), so roles meet what they meet
# on real trixie hosts. tmp.mount (a tmpfs /tmp, new default in trixie) is masked: a container
# without CAP_SYS_ADMIN cannot mount it, and the lab's /tmp stays on disk as on the other releases.
# sshd-keygen.service (new in trixie's openssh) is masked: fleet-hostkeys.service makes the lab's
# host keys at first boot on every release; sshd-keygen would add an RSA key sshd does not offer.
_TRIXIE_SETUP = r"""
if [ -s /etc/apt/sources.list ]; then
    awk '$1 == "deb" { print "Types: deb"; print "URIs: " $2; print "Suites: " $3;
                       printf "Components:"; for (i = 4; i <= NF; i++) printf " %s", $i; print "";
                       print "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"; print "" }' \
        /etc/apt/sources.list > /etc/apt/sources.list.d/debian.sources
    rm /etc/apt/sources.list
fi
systemctl mask tmp.mount sshd-keygen.service
"""

RELEASES: dict[str, Release] = {
    "bullseye": Release("bullseye", 11, "3.9"),
    "bookworm": Release("bookworm", 12, "3.11"),
    # systemd 257 refuses to boot on a cgroup v1 host (docker hosts still on v1 are common) unless
    # told it may; on a cgroup v2 host the flag changes nothing.
    "trixie": Release("trixie", 13, "3.13", setup=_TRIXIE_SETUP,
                      init_args=("SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1",)),
}


def release(name: str) -> Release:
    """The release called ``name``; FleetError naming the known ones otherwise."""
    try:
        return RELEASES[name]
    except KeyError:
        raise FleetError(f"unknown lab release '{name}': known releases are {', '.join(RELEASES)}") from None
