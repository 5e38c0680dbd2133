"""Read a file of the host for the controller: the agent's side of the ``fetch`` action.

Read-only: returns whether ``src`` exists and is a directory, and a regular file's SHA-1 and
content (base64). The controller (fleet/executor/fetch.py) writes the copy under its ``dest``,
as Ansible's fetch action does; the content never reaches a result.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from fleet.agent.contract import param

ALIASES: dict = {}


@dataclass(frozen=True)
class Params:
    src: str = param("the file on the host to read", "")
    dest: str = param("controller directory (or file, with flat) the copy goes to", "")
    flat: bool = param("write to dest itself, not dest/HOST/SRC", False)
    fail_on_missing: bool = param("fail when src is missing or a directory", True)
    validate_checksum: bool = param("compare the copy's SHA-1 with the host's", True)


def observe(p: Params, reader) -> dict:
    path = os.path.expanduser(p.src)
    info = reader.path_info(path, follow=True)
    if info is None:
        return {"path": path, "exists": False}
    if info["state"] == "directory":
        return {"path": path, "exists": True, "isdir": True}
    try:
        data = reader.read_bytes(path)
    except OSError as exc:
        return {"path": path, "exists": True, "isdir": False, "error": f"{exc.strerror or exc}: {path}"}
    return {"path": path, "exists": data is not None, "isdir": False,
            "content_b64": base64.b64encode(data or b"").decode("ascii")}
