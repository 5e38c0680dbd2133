"""fleet bake's inputs, labels and implied run: checked before any container exists."""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import pytest

from fleet import __version__
from fleet.bake import run as bake_run
from fleet.bake.container import ImageInfo
from fleet.bake.labels import bake_labels, rfc3339, tree_sha256
from fleet.bake.spec import BakeSpec
from fleet.errors import InputError
from fleet.result import HostReport, RunReport, TaskResult
from tests.conftest import REPO, fleet

SITE = REPO / "site.yml"


@pytest.mark.parametrize("kwargs, message", [
    ({}, "nothing to bake: give a PLAYBOOK or --role NAME"),
    ({"playbook": SITE, "roles": ["base"]}, "not both"),
    ({"playbook": Path("/nonexistent.yml")}, "playbook not found: /nonexistent.yml"),
    ({"playbook": SITE}, "--from IMAGE is required"),
    ({"playbook": SITE, "base": "debian"}, "--tag NAME[:TAG] is required"),
    ({"playbook": SITE, "base": "debian", "tag": "Bad:Tag"}, "not a valid image reference"),
    ({"playbook": SITE, "base": "debian", "tag": "x", "tar": Path("x.tar")}, "--tar packs a --rootfs tree"),
    ({"playbook": SITE, "base": "debian", "tag": "x", "name": "bad name"}, "--name 'bad name'"),
    ({"playbook": SITE, "rootfs": REPO, "base": "debian"}, "--from is for image bakes"),
    ({"playbook": SITE, "rootfs": REPO, "verify": True}, "testinfra cannot reach a chroot"),
    ({"playbook": SITE, "rootfs": REPO, "boot": "systemd"}, "nothing boots in a chroot"),
    ({"playbook": SITE, "rootfs": REPO / "nowhere"}, "not a directory"),
])
def test_bad_options_are_one_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError) as caught:
        BakeSpec(**kwargs).check()
    assert message in str(caught.value)


@pytest.mark.parametrize("tag, parts", [
    ("web", ("web", "latest")),
    ("web:1.2", ("web", "1.2")),
    ("registry.local:5000/team/web", ("registry.local:5000/team/web", "latest")),
    ("registry.local:5000/team/web:v3", ("registry.local:5000/team/web", "v3")),
])
def test_tag_parts(tag: str, parts: tuple[str, str]) -> None:
    spec = BakeSpec(playbook=SITE, base="debian", tag=tag)
    spec.check()
    assert spec.tag_parts == parts


def test_labels_record_what_was_applied(tmp_path: Path) -> None:
    role = tmp_path / "roles" / "web"
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("- debug: {msg: hi}\n")
    labels = bake_labels(roles={"web": role}, playbook=SITE, playbook_label="site.yml",
                         extra_vars={"password": "secret"}, base="debian:12", base_id="sha256:abc")
    assert labels["fleet.bake.roles"] == "web"
    assert labels["fleet.bake.playbook"] == "site.yml"
    assert labels["fleet.bake.playbook.sha256"] == hashlib.sha256(SITE.read_bytes()).hexdigest()
    assert labels["fleet.version"] == __version__
    assert labels["org.opencontainers.image.base.name"] == "debian:12"
    assert labels["fleet.bake.from.id"] == "sha256:abc"
    assert "secret" not in json.dumps(labels)  # -e values only as a digest
    created = datetime.datetime.fromisoformat(labels["org.opencontainers.image.created"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.UTC) - created).total_seconds()) < 60
    before = labels["fleet.bake.roles.sha256"]
    (role / "tasks" / "main.yml").write_text("- debug: {msg: changed}\n")
    assert tree_sha256([role]) != before  # a role's content is part of what was baked


def test_rfc3339_is_utc_with_z() -> None:
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert rfc3339(moment) == "2026-01-02T01:04:05Z"


def test_role_bake_implies_a_play_and_finds_the_repos_roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    spec = BakeSpec(roles=["base", "security"], base="x", tag="y", name="img1")
    run = bake_run.prepare(spec, tmp_path, "docker", "fleet-bake-img1-0000")
    assert list(run.roles()) == ["base", "security"]
    assert run.roles()["base"] == REPO / "roles" / "base"
    host = run.prepared.inventory.get_host("img1")
    assert host is not None
    labels = run.labels("x", "sha256:1")
    assert labels["fleet.bake.roles"] == "base,security" and "fleet.bake.playbook" not in labels


def test_playbook_bake_host_is_the_container_as_root(tmp_path: Path) -> None:
    run = bake_run.prepare(BakeSpec(playbook=SITE, base="x", tag="y"), tmp_path, "docker", "box")
    from fleet.api import host_vars

    hv = host_vars(run.prepared.inventory, "bake", run.prepared)
    assert (hv["ansible_connection"], hv["ansible_host"], hv["ansible_user"]) == ("docker", "box", "root")
    assert run.prepared.options.persist == 0  # a bake container never goes to the persistence daemon
    assert list(run.roles()) == ["base", "network", "security"]


def test_failure_names_the_first_failed_task() -> None:
    report = RunReport("apply")
    host = report.hosts["bake"] = HostReport("bake", failed=True)
    host.results = [
        TaskResult("bake", "p", "ok task", "copy", "ok"),
        TaskResult("bake", "p", "ignored", "command", "failed", msg="nope", ignored=True),
        TaskResult("bake", "p", "web : start app", "command", "failed", msg="rc=1\nmore", location="r.yml:3"),
    ]
    assert bake_run.failure(report) == "task 'web : start app' (r.yml:3) failed: rc=1"
    assert bake_run.failure(RunReport("apply")) is None


@pytest.mark.parametrize("cmd, entrypoint, systemd", [
    (["/sbin/init"], None, True),
    (["/lib/systemd/systemd"], None, True),
    (["bash"], None, False),
    (None, ["/usr/local/bin/docker-entrypoint.sh"], False),
    (None, None, False),
])
def test_systemd_is_detected_from_the_image_command(cmd: list[str] | None, entrypoint: list[str] | None,
                                                     systemd: bool) -> None:
    assert ImageInfo("x", "sha256:1", cmd, entrypoint).runs_systemd is systemd


def test_cli_reports_bad_options_without_a_traceback() -> None:
    result = fleet("bake", str(SITE))
    assert result.returncode == 1
    assert "ERROR: --from IMAGE is required" in result.stderr
    result = fleet("bake", "--from", "x", "--tag", "y")
    assert result.returncode == 1 and "nothing to bake" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
