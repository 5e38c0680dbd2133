"""Image → image: a container from ``--from``, the playbook applied in it over the docker
transport, optionally verified, committed as ``--tag`` with labels, and removed.

A failed apply or verify leaves no image and no container (``--keep-on-failure`` keeps the
container for inspection) and raises FleetError naming the failed task or test.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.bake import run as bake_run
from fleet.bake.container import BakeContainer, inspect_image
from fleet.bake.spec import BakeSpec
from fleet.errors import FleetError
from fleet.result import RunReport
from fleet.transport import DockerTransport


@dataclass
class ImageBake:
    """What a successful image bake made, and how long each phase took (seconds)."""

    image_id: str
    tag: str
    labels: dict[str, str]
    report: RunReport
    timings: dict[str, float] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)  # instance state taken out before commit


def bake_image(spec: BakeSpec, client: Any = None, say: Callable[[str], None] = print) -> ImageBake:
    """Run one image bake (``spec.check()`` first). FleetError on any failure, after cleanup."""
    from fleet.lab.lab import docker_client

    spec.check()
    assert spec.base is not None and spec.tag is not None
    client = client or docker_client()
    image = inspect_image(client, spec.base)
    systemd = image.runs_systemd if spec.boot == "auto" else spec.boot == "systemd"
    box = BakeContainer(client, image, spec.name, systemd, spec.network, say)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[phase] = round(now - clock, 2)
        clock = now

    with tempfile.TemporaryDirectory(prefix="fleet-bake-") as tmp:
        run = bake_run.prepare(spec, Path(tmp), "docker", box.name)  # all input checked here
        kept = False
        try:
            say(f"bake {spec.tag} from {spec.base}: container {box.name} "
                f"({'systemd' if systemd else 'keep-alive shell'})")
            box.create()
            box.start()
            lap("start")
            bootstrapped = bake_run.bootstrap(run, _raw(box), say)
            report = bake_run.apply(run)
            lap("apply")
            problem = bake_run.failure(report)
            if problem:
                raise FleetError(f"bake failed: {problem}")
            if spec.verify:
                _verify(run, say)
                lap("verify")
            bake_run.purge(run, _raw(box), bootstrapped, say)
            removed = box.reset_instance_state(keep_host_keys=spec.keep_host_keys)
            box.stop()
            lap("stop")
            labels = run.labels(spec.base, image.id)
            repository, tag = spec.tag_parts
            image_id = box.commit(repository, tag, labels, f"fleet bake: {run.playbook.name}")
            lap("commit")
        except BaseException as exc:
            kept = spec.keep_on_failure and box.container is not None
            problem = _fleet_error(exc)
            if problem is None:
                raise
            if kept:
                raise FleetError(f"{problem}\nthe bake container is kept for inspection: docker exec -it "
                                 f"{box.name} bash (remove it with: docker rm -f {box.name})") from None
            raise FleetError(f"{problem}\nno image was made; the bake container was removed") from None
        finally:
            if not kept:
                box.remove()
    say(f"baked {spec.tag} ({image_id[:19]}): {bake_run.summary(report)}; total {sum(timings.values()):.1f} s")
    return ImageBake(image_id, spec.tag, labels, report, timings, removed)


def _fleet_error(exc: BaseException) -> str | None:
    """The message of a failure fleet reports as such (its own errors, the docker engine's)."""
    import docker.errors

    if isinstance(exc, FleetError):
        return exc.message
    if isinstance(exc, docker.errors.DockerException):
        return f"docker: {exc}"
    return None


def _raw(box: BakeContainer) -> DockerTransport:
    return DockerTransport(box.name, "root")


def _verify(run: bake_run.BakeRun, say: Callable[[str], None]) -> None:
    """The applied roles' testinfra tests against the bake container; FleetError if any fails."""
    from fleet.verify.runner import verify

    runs = verify(run.prepared, say=say)
    if not runs:
        raise FleetError("verify failed: no applied role has tests (roles/NAME/tests/test_*.py)")
    for role in runs:
        say(f"{'PASS' if role.ok else 'FAIL'} role {role.role}: {role.passed} passed, {role.failed} failed"
            + (f", {role.errors} errors" if role.errors else ""))
    failed = [role for role in runs if not role.ok]
    if failed:
        first = failed[0]
        detail = (f"{first.failures[0].test}: {first.failures[0].message}" if first.failures
                  else first.output.strip().splitlines()[-1:] or ["no test passed"])
        raise FleetError(f"verify failed: role {first.role}: {detail if isinstance(detail, str) else detail[0]}")
