"""Inventory micro-benchmark: load a 10,000-host inventory with group_vars and host_vars.

    python bench/inventory_bench.py [--hosts 10000] [--runs 5] [--host-vars-every 10] [--out bench/RESULTS.md]

Builds, in a temp dir, an inventory directory like a large real one: ``hosts.yml`` with every
host in a role group (with inline host vars), a datacenter group and an environment group,
parent groups over those; ``group_vars/<group>.yml`` for every group and ``all``;
``host_vars/<host>.yml`` for every Nth host. Then, ``runs`` times in this process: time
``fleet.inventory.Inventory.load`` and one ``host_layers`` pass over every host (which also
reads the host_vars files). Reports the medians; writes results/inventory.json and the
``inventory`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from benchlib import machine, report

from fleet import __version__
from fleet.inventory import Inventory

HERE = Path(__file__).resolve().parent
ROLES = ("web", "app", "db", "cache", "queue", "lb", "monitor", "batch")
DATACENTERS = ("dc1", "dc2", "dc3", "dc4")
ENVIRONMENTS = ("prod", "staging")
PARENTS = {"frontend": ("web", "lb"), "backend": ("app", "db", "cache", "queue"), "datacenters": DATACENTERS}


def host_name(index: int) -> str:
    return f"node{index:05d}.{DATACENTERS[index % len(DATACENTERS)]}.example.test"


def _group_vars(group: str) -> dict[str, object]:
    """About 20 variables per group, some nested, as group_vars files tend to be."""
    return {
        f"{group}_port": 8000 + len(group),
        f"{group}_packages": [f"{group}-pkg{i}" for i in range(8)],
        f"{group}_limits": {"nofile": 65536, "nproc": 4096, "memlock": "unlimited"},
        f"{group}_users": [{"name": f"{group}{i}", "uid": 2000 + i, "groups": ["adm", group]} for i in range(4)],
        **{f"{group}_setting_{i}": f"value-{i}-{{{{ inventory_hostname }}}}" for i in range(16)},
    }


def build(base: Path, hosts: int, host_vars_every: int) -> Path:
    """Write the inventory directory under ``base`` and return it."""
    inv = base / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "host_vars").mkdir()
    names = [host_name(i) for i in range(hosts)]
    role_groups = {role: {"hosts": {}} for role in ROLES}
    for i, name in enumerate(names):
        role_groups[ROLES[i % len(ROLES)]]["hosts"][name] = {
            "ansible_host": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", "rack": f"r{i // 40}"}
    children: dict[str, dict] = dict(role_groups)
    for dc in DATACENTERS:
        children[dc] = {"hosts": {n: None for n in names if n.endswith(f".{dc}.example.test")}}
    for k, env in enumerate(ENVIRONMENTS):
        children[env] = {"hosts": {n: None for i, n in enumerate(names) if i % len(ENVIRONMENTS) == k}}
    for parent, members in PARENTS.items():
        children[parent] = {"children": {m: None for m in members}}
    data = {"all": {"vars": {"ansible_user": "deploy"}, "children": children}}
    (inv / "hosts.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    for group in ("all", *children):
        (inv / "group_vars" / f"{group}.yml").write_text(yaml.safe_dump(_group_vars(group), sort_keys=False))
    for name in names[::host_vars_every]:
        host_vars = {"serial": name.split(".")[0], "maintenance_window": "sun 02:00", "extra_ips": ["192.0.2.1"]}
        (inv / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(host_vars))
    return inv


def measure(inv: Path, runs: int) -> dict[str, object]:
    """Medians over ``runs`` (wall and CPU): load, one host_layers pass, and both together."""
    loads, passes, cpu_loads, cpu_passes = [], [], [], []
    count = layers = groups = 0
    for _ in range(runs):
        inventory = None  # the previous run's inventory is freed outside the measurement
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        inventory = Inventory.load([str(inv)])
        loaded, cpu_loaded = time.perf_counter(), time.process_time()
        layers = sum(len(inventory.host_layers(name)) for name in inventory.hosts)
        loads.append(loaded - start)
        passes.append(time.perf_counter() - loaded)
        cpu_loads.append(cpu_loaded - cpu_start)
        cpu_passes.append(time.process_time() - cpu_loaded)
        count, groups = len(inventory.hosts), len(inventory.groups)
    totals = [a + b for a, b in zip(loads, passes, strict=True)]
    cpu_totals = [a + b for a, b in zip(cpu_loads, cpu_passes, strict=True)]
    return {"hosts": count, "groups": groups, "layers": layers, "runs": runs,
            "load_s": statistics.median(loads), "host_layers_s": statistics.median(passes),
            "total_s": statistics.median(totals), "load_cpu_s": statistics.median(cpu_loads),
            "host_layers_cpu_s": statistics.median(cpu_passes), "total_cpu_s": statistics.median(cpu_totals),
            "load_runs_s": loads, "host_layers_runs_s": passes}


def section(result: dict[str, object], host_vars_files: int, about: dict[str, object]) -> str:
    """The markdown section for RESULTS.md."""
    return "\n".join([
        "## Inventory load (micro-benchmark)",
        "",
        f"`python bench/inventory_bench.py`: {result['hosts']} hosts, {result['groups']} groups, group_vars for "
        f"every group, {host_vars_files} host_vars files; median of {result['runs']} runs in one process "
        f"(fleet {__version__}, {about['date']}).",
        "",
        "| step | median wall s | median CPU s |",
        "|---|---:|---:|",
        f"| `Inventory.load` | {result['load_s']:.3f} | {result['load_cpu_s']:.3f} |",
        f"| one `host_layers` pass over every host ({result['layers']} layers) | {result['host_layers_s']:.3f} "
        f"| {result['host_layers_cpu_s']:.3f} |",
        f"| total | {result['total_s']:.3f} | {result['total_cpu_s']:.3f} |",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10_000, help="hosts in the inventory (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported (default 5)")
    parser.add_argument("--host-vars-every", type=int, default=10, help="a host_vars file for every Nth host")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="markdown results to update")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fleet-invbench-") as tmp:
        inv = build(Path(tmp), args.hosts, args.host_vars_every)
        host_vars_files = len(list((inv / "host_vars").iterdir()))
        result = measure(inv, args.runs)
    about = machine.describe()
    result["host_vars_files"] = host_vars_files
    report.write_raw(args.out.parent / "results" / "inventory.json", {"machine": about, "fleet": __version__, **result})
    text = section(result, host_vars_files, about)
    report.update_results(args.out, {"inventory": text})
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
