"""Kernel and system modules on real hosts: sysctl, kernel_module (modprobe), pam_limits, mount
and cron converge; what the container does not allow (a read-only /proc/sys, no module loading,
no mounting) is persisted and reported as a warning, never failed or pretended; re-apply changes
nothing; check mode on drifted hosts reports exactly the drift and changes nothing; everything
is removed again by the same modules."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOKS = Path(__file__).parent / "playbooks"
SYSCTL_FILE = "/etc/sysctl.d/60-fleet-test.conf"
LIMITS = "/etc/security/limits.d/60-fleet-test.conf"
CRON_FILE = "/etc/cron.d/fleet-test"
MNT = "/srv/fleet-test-mnt"
TASKS = ["forwarding", "kptr_restrict", "a module loaded at boot", "a module with parameters",
         "open files limit", "scratch mount", "system cron job", "user cron job"]
FILES = [SYSCTL_FILE, LIMITS, CRON_FILE, "/etc/modules-load.d/br_netfilter.conf",
         "/etc/modules-load.d/dummy.conf", "/etc/modprobe.d/dummy.conf", "/etc/fstab"]


def _clean(lab: ITLab, host: str) -> None:
    lab.sh(host, f"rm -f {' '.join(FILES[:-1])}; rm -rf {MNT}; sed -i '\\# {MNT} #d' /etc/fstab; "
                 "crontab -r -u fleet 2>/dev/null; true")


def _ensure_crontab(lab: ITLab, host: str) -> None:
    """The lab image has no cron: install it (the user crontab needs the crontab command)."""
    lab.sh(host, "command -v crontab >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                 "apt-get install -y -qq --no-install-recommends cron >/dev/null)")


def _proc_sys_read_only(lab: ITLab, host: str) -> bool:
    options = lab.sh(host, "awk '$5 == \"/proc/sys\" {print $6}' /proc/self/mountinfo").split(",")
    return "ro" in options


def _state(lab: ITLab, host: str) -> str:
    """What check mode must not touch: the managed files and the user's crontab."""
    return lab.sh(host, f"md5sum {' '.join(FILES)} 2>&1; crontab -l -u fleet 2>&1; ls -d {MNT} 2>&1",
                  check=False)


def _changed(data: dict) -> set:
    return {(h, r["task"]) for h, d in data["hosts"].items() for r in d["results"] if r["changed"]}


def test_kernel_and_system_settings_converge_honestly_then_drift_is_reported_and_fixed(
        lab: ITLab, tmp_path: Path) -> None:
    runtime = {}
    for host in HOSTS:
        _clean(lab, host)
        _ensure_crontab(lab, host)
        runtime[host] = {key: lab.read(host, f"/proc/sys/{key.replace('.', '/')}").strip()
                         for key in ("net.ipv4.ip_forward", "kernel.kptr_restrict")}
    args = ["-i", str(lab.inventory), str(PLAYBOOKS / "sys_kernel.yml")]

    first = run_fleet("apply", *args, "--json", str(tmp_path / "first.json"))
    assert first.returncode == 0, output(first)
    data = report(tmp_path / "first.json")
    assert data["summary"]["failed"] == 0 and data["summary"]["changed"] == len(HOSTS) * len(TASKS), first.stdout
    for host in HOSTS:
        results = {r["task"]: r for r in data["hosts"][host]["results"]}
        read_only = _proc_sys_read_only(lab, host)
        for task, key in (("forwarding", "net.ipv4.ip_forward"), ("kptr_restrict", "kernel.kptr_restrict")):
            after = lab.read(host, f"/proc/sys/{key.replace('.', '/')}").strip()
            # Runtime warnings only: a "boot" warning names other sysctl.d files setting the key
            # later (the site roles, when their test ran first on these hosts).
            warned = [w for w in results[task].get("warnings", []) if "not applied at runtime" in w]
            if runtime[host][key] == "1":
                assert not warned, results[task]  # nothing to apply at runtime
            elif read_only:  # docker mounts /proc/sys read-only: persisted, reported, not pretended
                assert warned == [
                    f"key {key}: persisted, not applied at runtime: /proc/sys is read-only here (a container?)"]
                assert after == runtime[host][key]
            else:
                assert after == "1" or warned[0].startswith(f"key {key}: persisted, not applied")
        assert lab.read(host, SYSCTL_FILE) == "net.ipv4.ip_forward=1\nkernel.kptr_restrict=1\n"

        assert results["a module loaded at boot"]["warnings"] == [
            "module br_netfilter: persisted, not loaded: no CAP_SYS_MODULE here (a container?)"]
        assert lab.read(host, "/etc/modules-load.d/br_netfilter.conf") == "br_netfilter\n"
        assert lab.read(host, "/etc/modules-load.d/dummy.conf") == "dummy\n"
        assert lab.read(host, "/etc/modprobe.d/dummy.conf") == "options dummy numdummies=2\n"

        assert lab.read(host, LIMITS) == "*\tsoft\tnofile\t4096\t#fleet test\n"

        assert results["scratch mount"]["warnings"] == [
            f"mount {MNT}: fstab entry written, not mounted: no CAP_SYS_ADMIN here (a container?)"]
        assert f"tmpfs {MNT} tmpfs size=1m,mode=0755 0 0\n" in lab.read(host, "/etc/fstab")
        assert not lab.exists(host, MNT)

        assert lab.read(host, CRON_FILE) == "#Ansible: fleet test job\n*/10 * * * * root /bin/true\n"
        assert lab.stat(host, CRON_FILE) == ("0644", "root", "root")
        assert lab.sh(host, "crontab -l -u fleet") == "#Ansible: fleet user job\n@daily /usr/bin/env true\n"

    second = run_fleet("apply", *args, "--json", str(tmp_path / "second.json"))
    assert second.returncode == 0, output(second)
    again = report(tmp_path / "second.json")
    assert again["summary"]["changed"] == 0, second.stdout
    def warned(run: dict) -> dict:
        return {r["task"]: r.get("warnings") for r in run["hosts"]["itest1"]["results"]}

    assert warned(again) == warned(data)  # what the host refuses is said on every run
    assert warned(again)["a module loaded at boot"]

    # Drift: a value edited on itest1, the limit file gone on itest2, the user's crontab and
    # a modules-load.d file removed on itest3. check shows exactly that and touches nothing.
    lab.sh("itest1", f"sed -i 's/^net.ipv4.ip_forward=1$/net.ipv4.ip_forward=0/' {SYSCTL_FILE}")
    lab.sh("itest2", f"rm {LIMITS}")
    lab.sh("itest3", "crontab -r -u fleet; rm /etc/modules-load.d/br_netfilter.conf")
    before = {host: _state(lab, host) for host in HOSTS}
    check = run_fleet("check", *args, "--diff", "--json", str(tmp_path / "check.json"))
    assert check.returncode == 2, output(check)
    drift = {("itest1", "forwarding"), ("itest2", "open files limit"), ("itest3", "user cron job"),
             ("itest3", "a module loaded at boot")}
    checked = report(tmp_path / "check.json")
    assert _changed(checked) == drift
    forwarding = next(r for r in checked["hosts"]["itest1"]["results"] if r["task"] == "forwarding")
    assert forwarding["diff"]["fields"] == ["content"]
    assert "-net.ipv4.ip_forward=0" in check.stdout and "+net.ipv4.ip_forward=1" in check.stdout
    assert {host: _state(lab, host) for host in HOSTS} == before, "check mode changed a host"

    third = run_fleet("apply", *args, "--json", str(tmp_path / "third.json"))
    assert third.returncode == 0, output(third)
    assert _changed(report(tmp_path / "third.json")) == drift
    assert lab.read("itest2", LIMITS) == "*\tsoft\tnofile\t4096\t#fleet test\n"
    assert lab.sh("itest3", "crontab -l -u fleet") == "#Ansible: fleet user job\n@daily /usr/bin/env true\n"
    clean = run_fleet("check", *args)
    assert clean.returncode == 0, output(clean)

    # Removed again by the same modules; a second removal has nothing to do.
    gone = ["-i", str(lab.inventory), str(PLAYBOOKS / "sys_kernel_absent.yml")]
    removed = run_fleet("apply", *gone, "--json", str(tmp_path / "removed.json"))
    assert removed.returncode == 0, output(removed)
    assert report(tmp_path / "removed.json")["summary"]["changed"] == len(HOSTS) * 7, removed.stdout
    for host in HOSTS:
        assert lab.read(host, SYSCTL_FILE) == ""
        assert lab.read(host, "/etc/modules-load.d/br_netfilter.conf") == "#br_netfilter\n"
        assert lab.read(host, "/etc/modprobe.d/dummy.conf") == "#options dummy numdummies=2\n"
        assert MNT not in lab.read(host, "/etc/fstab")
        assert not lab.exists(host, CRON_FILE)
        assert lab.sh(host, "crontab -l -u fleet") == ""
    removed_again = run_fleet("apply", *gone, "--json", str(tmp_path / "removed2.json"))
    assert removed_again.returncode == 0, output(removed_again)
    assert report(tmp_path / "removed2.json")["summary"]["changed"] == 0, removed_again.stdout
    for host in HOSTS:
        _clean(lab, host)
