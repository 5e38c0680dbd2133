"""Exceptions modules raise or meet on the target."""


class ReadOnlyHostError(Exception):
    """A module tried to change the host through the read-only handle."""


class ModuleFailure(Exception):
    """Raised by modules to fail a task with a clear message (no traceback shown)."""


class PathRefused(ModuleFailure):
    """A path fleet will not go through: a symlink someone else planted, a hard link, a device."""
