"""Payloads kept on the controller's disk between runs: used only while every file they were
built from is unchanged and nothing would shadow one of them."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

MODULE = """\
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.{util} import VALUE


def main():
    AnsibleModule(argument_spec={{}}).exit_json(value=VALUE)


if __name__ == '__main__':
    main()
"""


class Site:
    """A library module importing a module_util from the second of two module_utils folders."""

    def __init__(self, base: Path, core) -> None:
        from fleet.bridge.resolve import Resolver

        tag = uuid.uuid4().hex[:8]
        self.name, self.util = f"fleet_store_{tag}", f"fleet_store_util_{tag}"
        self.library, self.early, self.late = base / "library", base / "mu_early", base / "mu_late"
        for folder in (self.library, self.early, self.late):
            folder.mkdir()
        (self.library / f"{self.name}.py").write_text(MODULE.format(util=self.util))
        (self.late / f"{self.util}.py").write_text("VALUE = 1\n")
        self.core = core
        self.resolver = Resolver(module_dirs=[str(self.library)], module_utils_dirs=[str(self.early), str(self.late)],
                                 core=core)
        self.folder = base / "store"

    def cache(self):
        """A run's payload cache over the store (a new one per run, as each run makes one)."""
        from fleet.bridge.payload import PayloadCache
        from fleet.bridge.payloadstore import PayloadStore

        return PayloadCache(self.core, PayloadStore(self.core, self.folder))

    def payload(self):
        """The payload as a new run has it (ansible-core's own per-process zip cache emptied)."""
        from ansible import constants

        shutil.rmtree(Path(constants.DEFAULT_LOCAL_TMP, "ansiballz_cache"), ignore_errors=True)
        cache = self.cache()
        return cache.get(self.resolver.resolve(self.name)), cache.counts


@pytest.fixture
def site(tmp_path: Path, core) -> Site:
    return Site(tmp_path, core)


def _touch_later(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_the_second_run_reads_the_payload_ansible_core_built(site: Site) -> None:
    built, counts = site.payload()
    assert counts == {"built": 1, "stored": 0}
    kept, counts = site.payload()
    assert counts == {"built": 0, "stored": 1}
    assert (kept.sha, kept.zip, kept.module_fqn, kept.profile) == (built.sha, built.zip, built.module_fqn, built.profile)
    assert oct(site.folder.stat().st_mode & 0o777) == "0o700"


def test_a_changed_module_util_builds_again(site: Site) -> None:
    first, _ = site.payload()
    util = site.late / f"{site.util}.py"
    util.write_text("VALUE = 2\n")
    _touch_later(util)
    second, counts = site.payload()
    assert counts["built"] == 1 and second.sha != first.sha
    assert b"VALUE = 2" in second.zip


def test_a_changed_module_builds_again(site: Site) -> None:
    first, _ = site.payload()
    module = site.library / f"{site.name}.py"
    module.write_text(module.read_text() + "# edited\n")
    second, counts = site.payload()
    assert counts["built"] == 1 and second.sha != first.sha


def test_a_module_util_that_would_now_shadow_builds_again(site: Site) -> None:
    first, _ = site.payload()
    (site.early / f"{site.util}.py").write_text("VALUE = 3\n")
    second, counts = site.payload()
    assert counts["built"] == 1 and b"VALUE = 3" in second.zip and second.sha != first.sha


def test_a_damaged_zip_is_not_used(site: Site) -> None:
    first, _ = site.payload()
    for stored in site.folder.glob("*.zip"):
        stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    second, counts = site.payload()
    assert counts["built"] == 1 and second.zip == first.zip


def test_a_folder_others_may_write_is_not_used(site: Site) -> None:
    site.folder.mkdir(mode=0o700)
    site.folder.chmod(0o777)
    site.payload()
    _, counts = site.payload()
    assert counts == {"built": 1, "stored": 0}
    assert list(site.folder.iterdir()) == []


def test_the_store_keeps_within_its_limit(site: Site, core, resolver) -> None:
    from fleet.bridge.payload import PayloadCache
    from fleet.bridge.payloadstore import PayloadStore

    store = PayloadStore(core, site.folder, limit=1)  # only the newest zip stays
    cache = PayloadCache(core, store)
    cache.get(resolver.resolve("ansible.builtin.getent"))
    cache.get(resolver.resolve("ansible.builtin.find"))
    assert len(list(site.folder.glob("*.zip"))) == 1
