"""A module's payload, built by ansible-core's own ``module_common.modify_module``.

AnsiballZ is a wrapper script around a base64 zip (the module and the ``module_utils`` it
imports, found by ansible-core's ``recursive_finder``) and the task's arguments. fleet takes
the zip and the way to run it out of the wrapper (2.19+: the keywords of its
``_ansiballz_main(...)`` call; 2.17/2.18: the ``ZIPDATA`` constant and the ``runpy`` call), so
the zip is the same for every task of the module: built once per (FQCN, path, ansible-core
version) on the controller, sent to an agent once and kept there by its sha256. Each task's
arguments travel separately. The zip is rewritten with fixed timestamps, so the same module
gives the same sha256 in every run (a kept agent keeps it across runs).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from fleet.bridge.core import AnsibleCore
from fleet.bridge.resolve import Resolution
from fleet.errors import FleetError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class PayloadError(FleetError):
    """ansible-core could not build the module's payload, or built one fleet cannot read."""


@dataclass(frozen=True)
class Payload:
    """One module's zip and how to run it on the host."""

    fqcn: str
    zip: bytes = field(repr=False)
    sha: str
    module_fqn: str  # the Python module name inside the zip (ansible.modules.getent, ...)
    style: str  # "ansiballz" (2.19+: _loader.run_module) or "legacy" (runpy, basic._ANSIBLE_ARGS)
    profile: str = "legacy"  # serialization profile (2.19+)
    extensions: dict[str, Any] = field(default_factory=dict)
    core: str = ""  # the ansible-core version that built it

    @property
    def names(self) -> list[str]:
        """The files in the zip."""
        return zipfile.ZipFile(io.BytesIO(self.zip)).namelist()


class Store(Protocol):
    """Payloads kept between runs (:class:`fleet.bridge.payloadstore.PayloadStore`)."""

    def load(self, module: Resolution) -> Payload | None: ...

    def save(self, module: Resolution, payload: Payload) -> bool: ...


class PayloadCache:
    """Payloads by (FQCN, module path, ansible-core version): from ``store`` when it has them
    unchanged, else built (and given to ``store``)."""

    def __init__(self, core: AnsibleCore, store: Store | None = None) -> None:
        self.core = core
        self.store = store
        self._built: dict[tuple[str, str, str], Payload] = {}
        self.counts = {"built": 0, "stored": 0}  # how each payload of this run was had

    def get(self, module: Resolution) -> Payload:
        key = (module.fqcn, module.path, self.core.version)
        payload = self._built.get(key)
        if payload is None:
            payload = self.store.load(module) if self.store else None
            if payload is not None:
                self.counts["stored"] += 1
            else:
                payload = build(self.core, module)
                self.counts["built"] += 1
                if self.store:
                    self.store.save(module, payload)
            self._built[key] = payload
        return payload


def build(core: AnsibleCore, module: Resolution) -> Payload:
    """Have ansible-core assemble ``module`` (a runnable :class:`Resolution`) and take its zip."""
    if not module.runnable:
        raise PayloadError(module.refused or f"{module.fqcn} cannot run through the bridge")
    common = core.module("ansible.executor.module_common")
    templar = core.module("ansible.template").Templar(loader=core.module("ansible.parsing.dataloader").DataLoader())
    # The interpreter is the agent's own Python: naming one here keeps ansible-core from
    # trying to discover it (there is no connection to discover it over).
    task_vars = {"ansible_python_interpreter": "/usr/bin/python3"}
    try:
        if core.profiles:
            built = common.modify_module(module_name=module.short, module_path=module.path, module_args={},
                                         templar=templar, task_vars=task_vars)
            data, style = built.b_module_data, built.module_style
        else:
            data, style, _ = common.modify_module(module.short, module.path, {}, templar, task_vars=task_vars)
    except Exception as exc:  # ansible-core's own errors: a module_util it cannot find, a bad file
        raise PayloadError(f"ansible-core could not build the payload of {module.fqcn}: {exc}") from exc
    if style != "new":
        raise PayloadError(f"{module.fqcn} is not a new-style Python module (ansible-core says {style!r})")
    fields = _wrapper_fields(data.decode("utf-8"), core.profiles)
    raw = _normalized(base64.b64decode(fields["zip_data"]))
    return Payload(
        fqcn=module.fqcn, zip=raw, sha=hashlib.sha256(raw).hexdigest(), module_fqn=str(fields["module_fqn"]),
        style="ansiballz" if core.profiles else "legacy", profile=str(fields.get("profile") or "legacy"),
        extensions=dict(fields.get("extensions") or {}), core=core.version)


def _wrapper_fields(source: str, profiles: bool) -> dict[str, Any]:
    """The zip and the run settings out of an AnsiballZ wrapper (read with ``ast``, never run)."""
    tree = ast.parse(source)
    fields: dict[str, Any] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if profiles and callee == "_ansiballz_main":
            for keyword in node.keywords:
                if keyword.arg in ("zip_data", "module_fqn", "profile", "extensions"):
                    fields[keyword.arg] = ast.literal_eval(keyword.value)
        elif not profiles and callee == "run_module":
            for keyword in node.keywords:
                if keyword.arg == "mod_name":
                    fields["module_fqn"] = ast.literal_eval(keyword.value)
    if not profiles:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ZIPDATA" for t in node.targets):
                fields["zip_data"] = ast.literal_eval(node.value)
    missing = {"zip_data", "module_fqn"} - set(fields)
    if missing:
        raise PayloadError(f"this ansible-core's AnsiballZ wrapper has no {', '.join(sorted(missing))} "
                           f"where fleet looks for it")
    return fields


def _normalized(raw: bytes) -> bytes:
    """The zip with every entry's time fixed and its entries in name order (stored)."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()
