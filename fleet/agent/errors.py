"""Exceptions modules raise or meet on the target."""


class ReadOnlyHostError(Exception):
    """A module tried to change the host through the read-only handle."""


class ModuleFailure(Exception):
    """Raised by modules to fail a task with a clear message (no traceback shown)."""


class AnsibleOnly(ModuleFailure):
    """A value fleet's module does not handle but Ansible's module of the same name does (an
    apt name wildcard): the controller runs the task through Ansible's module code instead."""


class PathRefused(ModuleFailure):
    """A path fleet will not go through: a symlink someone else planted, a hard link, a device."""


class MissingUntilApplied(ModuleFailure):
    """What the task needs is missing on the host (the directory its file goes into): a
    failure when applying, a change in check mode, where the earlier task that would create it
    only said so (Ansible reports "changed" there too). ``want``: the fields the task would
    set, for check mode's diff."""

    def __init__(self, msg: str, want=None) -> None:
        super().__init__(msg)
        self.want = dict(want or {})
