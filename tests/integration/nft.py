"""``nft`` in a lab host with CAP_NET_ADMIN, for the tests that load firewalls there."""

from __future__ import annotations

import contextlib
import glob
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import require

DEBS = ("nftables", "libnftables1", "libnftnl11", "libjansson4")


def install_nft(container: Any) -> str | None:
    """Make ``nft`` available in the container; None when done, else why not."""
    if container.exec_run(["sh", "-c", "command -v nft"])[0] == 0:
        return None
    code, out = container.exec_run(["sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                                                "apt-get install -y -qq --no-install-recommends nftables"])
    if code == 0:
        return None
    # No network for apt in the container: the controller's apt cache may hold the packages.
    debs = [d for name in DEBS for d in sorted(glob.glob(f"/var/cache/apt/archives/{name}_*.deb"))[-1:]]
    if not debs:
        return f"cannot install nftables in the lab host: {out.decode(errors='replace')[-300:]}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for deb in debs:
            tar.add(deb, arcname=f"fleet-debs/{Path(deb).name}")
    container.put_archive("/tmp", buffer.getvalue())
    code, out = container.exec_run(["sh", "-c", "dpkg -i /tmp/fleet-debs/*.deb && rm -rf /tmp/fleet-debs"])
    if code != 0:
        return f"cannot install nftables from {debs}: {out.decode(errors='replace')[-300:]}"
    return None


@contextlib.contextmanager
def net_admin_lab(name: str, directory: Path) -> Iterator[tuple[Any, Path]]:
    """A one-host lab with CAP_NET_ADMIN and nft: ``(container, inventory)``. The host has its
    own network namespace: a firewall it loads is the container's, never the machine's."""
    from fleet.lab.lab import Lab, LabSpec

    lab = Lab(LabSpec(name=name, hosts=1, directory=directory, cap_add=["NET_ADMIN"]), say=print)
    lab.down()
    try:
        inventory = lab.up(inventory_out=directory / "inventory.yml")
        container = lab.client.containers.get(lab.spec.container(1))
        why = install_nft(container)
        require(not why, str(why))
        yield container, inventory
    finally:
        lab.down()
