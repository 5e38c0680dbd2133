"""ansible-core's own argument checks, for what fleet runs on the controller: the
``validate_argument_spec`` action (a role's argument spec) and ``ansible_version``."""

from __future__ import annotations

import importlib
from typing import Any


def installed_version() -> str | None:
    """The installed ansible-core's version, or None."""
    try:
        return str(importlib.import_module("ansible.release").__version__)
    except ImportError:
        return None


def argument_errors(spec: dict[str, Any], values: dict[str, Any]) -> list[str] | None:
    """ansible-core's ``ArgumentSpecValidator`` messages for ``values`` against ``spec`` (a
    role's spec: ``validate_role_argument_spec``); None when ansible-core is not installed."""
    try:
        arg_spec = importlib.import_module("ansible.module_utils.common.arg_spec")
    except ImportError:
        return None
    result = arg_spec.ArgumentSpecValidator(spec).validate(values, validate_role_argument_spec=True)
    return list(result.error_messages)
