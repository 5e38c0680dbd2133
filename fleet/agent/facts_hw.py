"""Hardware and virtualization facts as Ansible's Linux collectors name them, without commands.

``memtotal_mb``/``memfree_mb``/``swaptotal_mb``/``swapfree_mb``, ``memory_mb``, ``processor*``,
``flags``, ``mounts`` (with sizes, inodes, ``uuid`` from /dev/disk/by-uuid, ``options``),
``uptime_seconds``, ``loadavg``, DMI (``bios_*``, ``board_*``, ``chassis_*``, ``product_*``,
``system_vendor``, ``form_factor``; "NA" where unreadable), and ``virtualization_type``/``_role``/
``_tech_guest``/``_tech_host``. Stdlib only, Python >= 3.8.
"""

from __future__ import annotations

import os

from fleet.agent.facts_net import read

HYPERVISORS = (
    ("KVM", "kvm"), ("QEMU", "kvm"), ("OpenStack", "openstack"), ("Amazon EC2", "amazon"),
    ("VMware", "VMware"), ("VirtualBox", "virtualbox"), ("Virtual Machine", "VirtualPC"),
    ("Microsoft", "VirtualPC"), ("Xen", "xen"), ("HVM domU", "xen"), ("Parallels", "parallels"),
    ("Google", "kvm"), ("BHYVE", "bhyve"), ("oVirt", "oVirt"), ("RHEV", "RHEV"),
)  # fmt: skip
CONTAINERS = ("docker", "podman", "lxc", "systemd-nspawn", "openvz", "container")
DMI = {
    "bios_date": "bios_date", "bios_vendor": "bios_vendor", "bios_version": "bios_version",
    "board_asset_tag": "board_asset_tag", "board_name": "board_name", "board_serial": "board_serial",
    "board_vendor": "board_vendor", "board_version": "board_version",
    "chassis_asset_tag": "chassis_asset_tag", "chassis_serial": "chassis_serial",
    "chassis_vendor": "chassis_vendor", "chassis_version": "chassis_version",
    "product_name": "product_name", "product_serial": "product_serial", "product_uuid": "product_uuid",
    "product_version": "product_version", "system_vendor": "sys_vendor",
}  # fmt: skip
FORM_FACTORS = (
    "Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower",
    "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One", "Sub Notebook",
    "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis", "Sub Chassis",
    "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis",
    "Sealed-case PC", "Multi-system", "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure",
    "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
)  # fmt: skip
MOUNT_SKIP = ("none",)


def virtual() -> dict:
    cgroup = read("/proc/1/cgroup")
    environ = read("/proc/1/environ").split("\0")
    kind = "NA"
    if "/docker" in cgroup or os.path.exists("/.dockerenv") or os.path.exists("/.dockerinit"):
        kind = "docker"
    elif "container=podman" in environ or os.path.exists("/run/.containerenv"):
        kind = "podman"
    elif "container=lxc" in environ or "/lxc/" in cgroup:
        kind = "lxc"
    elif "container=systemd-nspawn" in environ:
        kind = "systemd-nspawn"
    elif os.path.exists("/proc/vz") and not os.path.exists("/proc/bc"):
        kind = "openvz"
    else:
        dmi = " ".join(
            read("/sys/devices/virtual/dmi/id/" + f) for f in ("product_name", "sys_vendor")
        )
        found = [name for marker, name in HYPERVISORS if marker in dmi]
        if found:
            kind = found[0]
        elif os.path.exists("/proc/xen"):
            kind = "xen"
    guest = [] if kind == "NA" else (["container", kind] if kind in CONTAINERS else [kind])
    return {"virtualization_type": kind, "virtualization_role": "NA" if kind == "NA" else "guest",
            "virtualization_tech_guest": guest, "virtualization_tech_host": []}


def hardware() -> dict:
    mem = {}
    for line in read("/proc/meminfo").splitlines():
        key, _sep, value = line.partition(":")
        if value.strip():
            mem[key] = int(value.split()[0])
    names = (("memtotal", "MemTotal"), ("memfree", "MemFree"), ("swaptotal", "SwapTotal"),
             ("swapfree", "SwapFree"))  # fmt: skip
    facts: dict = {f"{name}_mb": mem.get(key, 0) // 1024 for name, key in names}
    facts["memory_mb"] = _memory_mb(mem)
    sockets: dict = {}
    siblings: dict = {}
    processors: list = []
    count = 0
    physid = "0"
    for line in read("/proc/cpuinfo").splitlines():
        key, _sep, value = (s.strip() for s in line.partition(":"))
        if key == "flags" and "flags" not in facts:
            facts["flags"] = value.split()
        if key == "processor":
            count += 1
            processors.append(value)
        elif key in ("vendor_id", "model name"):
            processors.append(value)
        elif key == "physical id":
            physid = value
            sockets.setdefault(physid, 1)
        elif key == "cpu cores":
            sockets[physid] = int(value)
        elif key == "siblings":
            siblings[physid] = int(value)
    cores = next(iter(sockets.values()), 1)
    threads = max(next(iter(siblings.values()), 1) // cores, 1)
    sock_count = len(sockets) or count
    facts.update(
        processor=processors,
        processor_count=sock_count,
        processor_cores=cores,
        processor_threads_per_core=threads,
        processor_vcpus=threads * cores * sock_count if sockets else count,
        processor_nproc=len(os.sched_getaffinity(0)),
    )
    return facts


def _memory_mb(mem: dict) -> dict:
    def mb(key: str) -> int:
        return mem.get(key, 0) // 1024

    free_nocache = mb("MemFree") + mb("Buffers") + mb("Cached")
    return {
        "real": {"total": mb("MemTotal"), "used": mb("MemTotal") - mb("MemFree"), "free": mb("MemFree")},
        "nocache": {"free": free_nocache, "used": mb("MemTotal") - free_nocache},
        "swap": {"total": mb("SwapTotal"), "free": mb("SwapFree"),
                 "used": mb("SwapTotal") - mb("SwapFree"), "cached": mb("SwapCached")},
    }


def dmi() -> dict:
    base = "/sys/devices/virtual/dmi/id/"
    facts = {name: read(base + leaf, "NA") or "NA" for name, leaf in DMI.items()}
    kind = read(base + "chassis_type")
    facts["form_factor"] = FORM_FACTORS[int(kind)] if kind.isdigit() and int(kind) < len(FORM_FACTORS) else "NA"
    return facts


def _uuids() -> dict:
    found: dict = {}
    folder = "/dev/disk/by-uuid"
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        try:
            found[os.path.realpath(os.path.join(folder, name))] = name
        except OSError:
            continue
    return found


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts() -> list:
    """``/proc/mounts`` entries of block devices (and network filesystems), as Ansible lists them."""
    uuids = _uuids()
    binds = _bind_mounts()
    found = []
    for line in read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mount, fstype, options = _unescape(fields[0]), _unescape(fields[1]), fields[2], fields[3]
        if (not device.startswith(("/", "\\")) and ":/" not in device) or fstype in MOUNT_SKIP:
            continue
        if mount in binds:  # as Ansible (which asks findmnt): a bind mount says so in its options
            options += ",bind"
        entry = {"mount": mount, "device": device, "fstype": fstype, "options": options,
                 "dump": int(fields[4]) if len(fields) > 4 and fields[4].isdigit() else 0,
                 "passno": int(fields[5]) if len(fields) > 5 and fields[5].isdigit() else 0,
                 "uuid": uuids.get(os.path.realpath(device), "N/A") if device.startswith("/") else "N/A"}
        try:
            st = os.statvfs(mount)
        except OSError:
            found.append(entry)
            continue
        entry.update(size_total=st.f_frsize * st.f_blocks, size_available=st.f_frsize * st.f_bavail,
                     block_size=st.f_bsize, block_total=st.f_blocks, block_available=st.f_bavail,
                     block_used=st.f_blocks - st.f_bavail, inode_total=st.f_files, inode_available=st.f_favail,
                     inode_used=st.f_files - st.f_favail)
        found.append(entry)
    return found


def _bind_mounts() -> set:
    """Mount points whose source is a directory or file inside a filesystem (mountinfo's root)."""
    found = set()
    for line in read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[3] != "/":
            found.add(_unescape(fields[4]))
    return found


def uptime_and_load() -> dict:
    facts: dict = {}
    uptime = read("/proc/uptime").split()
    if uptime:
        facts["uptime_seconds"] = int(float(uptime[0]))
    try:
        one, five, fifteen = os.getloadavg()
        facts["loadavg"] = {"1m": one, "5m": five, "15m": fifteen}
    except OSError:
        pass
    return facts
