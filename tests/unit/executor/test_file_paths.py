"""copy/template ``src`` and include_vars files: found inside the role and playbook directories;
a relative path that climbs out of them is refused, an absolute path is taken as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.errors import InputError, Location
from fleet.executor.files import find_file
from fleet.playbook.models import RoleContext, Task
from fleet.vars import Layer


def _task(tmp_path: Path) -> Task:
    role_path = tmp_path / "roles" / "web"
    (role_path / "templates").mkdir(parents=True)
    (role_path / "templates" / "app.conf.j2").write_text("x")
    (tmp_path / "secret.txt").write_text("controller file")
    empty = Layer("role defaults", "", {})
    role = RoleContext(name="web", path=role_path, defaults=empty, vars=empty, params=empty)
    return Task(module="template", args={}, location=Location("roles/web/tasks/main.yml", 3),
                base_dir=role_path / "tasks", role=role)


def test_found_in_the_role_first(tmp_path: Path) -> None:
    task = _task(tmp_path)
    assert find_file("app.conf.j2", task, tmp_path, "templates") == tmp_path / "roles/web/templates/app.conf.j2"


@pytest.mark.parametrize("name", ["../../../secret.txt", "../../../../etc/passwd", "sub/../../../../../secret.txt"])
def test_climbing_out_is_refused_with_the_task_location(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError) as info:
        find_file(name, _task(tmp_path), tmp_path, "templates")
    assert "'..' is not allowed here" in str(info.value)
    assert str(info.value.location) == "roles/web/tasks/main.yml:3"


def test_an_absolute_path_is_taken_as_given(tmp_path: Path) -> None:
    assert find_file(str(tmp_path / "secret.txt"), _task(tmp_path), tmp_path, "templates") == tmp_path / "secret.txt"
