"""Lab releases: one image per release (tag names it; bookworm's hash as before releases), an
unknown release refused with the known ones, an existing image reused or retagged, never a lab
mixing releases. Docker is faked: these are about fleet's decisions, not the engine."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from fleet.errors import FleetError
from fleet.lab import image
from fleet.lab.lab import Lab, LabSpec
from fleet.lab.releases import RELEASES, release
from tests.conftest import fleet


def test_each_release_has_its_own_tag_naming_it() -> None:
    tags = {name: image.image_tag(name) for name in RELEASES}
    assert tags == {name: f"fleet-lab:{name}-{tags[name].rsplit('-', 1)[1]}" for name in RELEASES}
    assert len(set(tags.values())) == 3
    assert image.image_tag() == tags["bookworm"]


def test_bookworm_keeps_the_hash_its_image_had_before_releases() -> None:
    before = {"suite": "bookworm", "variant": "minbase", "packages": list(image.PACKAGES), "setup": image.SETUP,
              "format": 1}
    digest = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:12]
    assert image.image_tag("bookworm") == f"fleet-lab:bookworm-{digest}"


def test_the_python_each_release_brings() -> None:
    assert {name: r.python for name, r in RELEASES.items()} == {"bullseye": "3.9", "bookworm": "3.11",
                                                                 "trixie": "3.13"}


def test_trixie_boots_on_cgroup_v1_and_gets_deb822_sources() -> None:
    trixie = release("trixie")
    assert trixie.init == ["/sbin/init", "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"]
    assert "/etc/apt/sources.list.d/debian.sources" in trixie.setup
    assert release("bookworm").init == ["/sbin/init"]


def test_an_unknown_release_is_one_error_listing_the_known_ones() -> None:
    with pytest.raises(FleetError) as caught:
        release("sid")
    assert str(caught.value) == "unknown lab release 'sid': known releases are bullseye, bookworm, trixie"


@pytest.mark.parametrize("args", [["lab", "up", "-n", "1", "--name", "relunit", "--release", "buster"],
                                  ["lab", "setup", "--release", "bookworm", "--release", "buster"]])
def test_the_cli_refuses_an_unknown_release_before_touching_docker(args: list[str]) -> None:
    result = fleet(*args)
    assert result.returncode == 1
    assert result.stderr.strip() == ("ERROR: unknown lab release 'buster': known releases are bullseye, "
                                     "bookworm, trixie"), result.stderr


# -- a fake docker client -----------------------------------------------------------------------

class _NotFound(Exception):
    pass


@dataclass
class _Image:
    tags: list[str]

    def tag(self, repository: str, tag: str) -> None:
        self.tags.append(f"{repository}:{tag}")


@dataclass
class _Images:
    known: list[_Image] = field(default_factory=list)

    def get(self, tag: str) -> _Image:
        for found in self.known:
            if tag in found.tags:
                return found
        import docker.errors

        raise docker.errors.ImageNotFound(tag)


@dataclass
class _Client:
    images: _Images


def test_an_existing_image_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "build_image", lambda *a: pytest.fail("built again"))
    client = _Client(_Images([_Image([image.image_tag("trixie")])]))
    assert image.ensure_image(client, "trixie") == image.image_tag("trixie")


def test_bookworms_image_under_its_old_tag_is_retagged_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "build_image", lambda *a: pytest.fail("built again"))
    digest = image.image_tag("bookworm").rsplit("-", 1)[1]
    old = _Image([f"fleet-lab:{digest}"])
    assert image.ensure_image(_Client(_Images([old])), "bookworm") == image.image_tag("bookworm")
    assert old.tags == [f"fleet-lab:{digest}", image.image_tag("bookworm")]


def test_a_missing_image_is_built_for_its_release(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, str]] = []
    monkeypatch.setattr(image, "build_image", lambda tag, say, name: built.append((tag, name)))
    digest = image.image_tag("bullseye").rsplit("-", 1)[1]
    client = _Client(_Images([_Image([f"fleet-lab:{digest}"])]))  # an old-style tag counts for bookworm only
    assert image.ensure_image(client, "bullseye") == image.image_tag("bullseye")
    assert built == [(image.image_tag("bullseye"), "bullseye")]


@dataclass
class _Container:
    name: str
    labels: dict[str, str]
    status: str = "running"


@dataclass
class _Containers:
    found: list[_Container]

    def list(self, **_: Any) -> list[_Container]:
        return self.found


@dataclass
class _LabClient:
    containers: _Containers


@pytest.mark.parametrize("labels, held", [({"fleet.lab": "rel", "fleet.lab.release": "bullseye"}, "bullseye"),
                                          ({"fleet.lab": "rel"}, "bookworm")])  # started before releases
def test_a_lab_never_mixes_releases(labels: dict[str, str], held: str) -> None:
    client = _LabClient(_Containers([_Container("fleet-rel-1", labels)]))
    lab = Lab(LabSpec(name="rel", hosts=2, release="trixie"), client=client)
    with pytest.raises(FleetError) as caught:
        lab._running(["fleet-rel-1", "fleet-rel-2"])
    assert str(caught.value) == (f"lab 'rel' has {held} hosts (fleet-rel-1), not trixie: "
                                 "`fleet lab down --name rel` first, or choose another --name")


def test_a_lab_of_the_same_release_is_reused() -> None:
    client = _LabClient(_Containers([_Container("fleet-rel-1", {"fleet.lab": "rel", "fleet.lab.release": "trixie"})]))
    lab = Lab(LabSpec(name="rel", hosts=2, release="trixie"), client=client)
    assert lab._running(["fleet-rel-1", "fleet-rel-2"]) == {"fleet-rel-1"}
