"""Host output on a terminal: control characters shown as escapes, never obeyed.

Command output, file contents in diffs and error text come from the hosts. Printed as they
are, an escape sequence in them could clear the screen (``ESC [2J``), retitle the window or
write to the clipboard (OSC), move the cursor to overwrite earlier lines, or hide text. Every
C0 control but tab and newline (a carriage return too, unless it ends a ``\\r\\n`` line), DEL
and every C1 control (``\\x9b`` is a one-byte CSI) is printed as a visible ``\\xNN`` escape.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return "\\r" if char == "\r" else f"\\x{ord(char):02x}"


def visible(text: str) -> str:
    """``text`` with terminal control characters replaced by visible escapes (``\\x1b``)."""
    return _CONTROLS.sub(_escape, text) if text else text
