"""ansible-core, imported lazily: fleet without the ``ansible`` extra works as before, and a
task that needs one of Ansible's modules says how to get it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from fleet.errors import FleetError, Location

INSTALL = "pip install 'fleet[ansible]'"
SUPPORTED = ((2, 17), (2, 21))  # ansible-core releases this bridge knows (both ends included)


class AnsibleMissing(FleetError):
    """A task needs ansible-core (a module only Ansible has) and it is not installed."""


class AnsibleUnsupported(FleetError):
    """The installed ansible-core is outside :data:`SUPPORTED`."""


@dataclass(frozen=True)
class AnsibleCore:
    """The installed ansible-core: its version and the modules the bridge uses."""

    version: str

    @property
    def release(self) -> tuple[int, int]:
        """(major, minor), e.g. (2, 19)."""
        major, minor = self.version.split(".")[:2]
        return int(major), int("".join(c for c in minor if c.isdigit()) or 0)

    @property
    def profiles(self) -> bool:
        """2.19 changed AnsiballZ: serialization profiles, ``_ansiballz_main(...)`` keywords and
        ``ansible.module_utils._internal._ansiballz._loader.run_module`` on the host."""
        return self.release >= (2, 19)

    def module(self, name: str) -> ModuleType:
        """``importlib.import_module(name)``: one of ansible-core's modules."""
        return importlib.import_module(name)


def ansible_core(module: str = "", location: Location | None = None) -> AnsibleCore:
    """The installed ansible-core, or :class:`AnsibleMissing` naming ``module`` (the task's
    module) and the extra to install."""
    try:
        release = importlib.import_module("ansible.release")
    except ImportError:
        needs = f"the module {module} is not one of fleet's own modules" if module else "this needs Ansible's modules"
        raise AnsibleMissing(
            f"{needs}: fleet runs Ansible's own module code for it through ansible-core, which is not "
            f"installed here; install it with {INSTALL} (ansible-core >= 2.17; the 'ansible' package adds "
            f"the community collections)", location) from None
    core = AnsibleCore(str(release.__version__))
    low, high = SUPPORTED
    if not low <= core.release <= high:
        raise AnsibleUnsupported(
            f"ansible-core {core.version} is installed; fleet's Ansible bridge supports "
            f"{low[0]}.{low[1]} to {high[0]}.{high[1]} ({INSTALL} installs one)", location)
    return core
