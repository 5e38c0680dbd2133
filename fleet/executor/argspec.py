"""``validate_argument_spec``: values checked against an argument spec on the controller.

Ansible puts this task before a role's tasks when the role has an argument spec for its entry
point (``meta/argument_specs.yml``, else ``argument_specs`` in ``meta/main.yml``): the role's
params and the variables the spec names are validated with ansible-core's own
``ArgumentSpecValidator`` (types, choices, required, elements, nested options), as Ansible
does. Without ansible-core installed the task is ``ok`` with a warning that nothing was checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.bridge import argument_errors
from fleet.errors import InputError

PASSED = "The arg spec validation passed"


def validate_argument_spec(ctx: Any) -> dict[str, Any]:
    """The action (``ctx``: fleet.executor.actions.ActionContext)."""
    spec = ctx.args.get("argument_spec")
    provided = ctx.args.get("provided_arguments") or {}
    context = ctx.args.get("validate_args_context") or {}
    if not isinstance(spec, Mapping):
        raise InputError(f"{ctx.where}: argument_spec must be a mapping, got {type(spec).__name__}", ctx.location)
    if not isinstance(provided, Mapping):
        raise InputError(f"{ctx.where}: provided_arguments must be a mapping, got {type(provided).__name__}",
                         ctx.location)
    # as Ansible's action: the variables the spec names, then the params given, which win
    values = {name: ctx.variables[name] for name in spec if name in ctx.variables}
    values.update(provided)
    errors = argument_errors(_plain(spec), _plain(values))
    if errors is None:
        return {"status": "ok", "changed": False, "msg": "not validated: ansible-core is not installed",
                "data": {"validate_args_context": dict(context)},
                "warnings": ["the argument spec was not checked (that needs ansible-core: pip install 'fleet[ansible]')"]}
    data: dict[str, Any] = {"validate_args_context": dict(context)}
    if errors:
        data.update(argument_spec_data=_plain(spec), argument_errors=errors)
        return {"status": "failed", "changed": False,
                "msg": "Validation of arguments failed:\n" + "\n".join(errors), "data": data}
    return {"status": "ok", "changed": False, "msg": PASSED, "data": data}


def _plain(value: Any) -> Any:
    """Plain dicts, lists and strs for ansible-core's validator (fleet's marked types are subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
