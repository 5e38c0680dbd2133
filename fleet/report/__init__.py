"""Ways to show a RunReport: the terminal (rich) and the ``--json`` file.

- :mod:`~fleet.report.terminal`: ``TerminalReporter`` (progress, recap, diffs);
  :mod:`~fleet.report.caveats` groups the warnings hosts give.
- :mod:`~fleet.report.jsonout`: ``write_json``; :mod:`~fleet.report.files`: ``write_atomic``
  for every report file fleet writes.
- :mod:`~fleet.report.controls`: ``visible`` (a host's text made safe to print);
  :mod:`~fleet.report.words`: ``plural``.

Renderers work from the report they are given: none imports the executor.
"""

from fleet.report.controls import visible
from fleet.report.files import write_atomic
from fleet.report.jsonout import write_json
from fleet.report.terminal import TerminalReporter, render_diff
from fleet.report.words import plural

__all__ = ["TerminalReporter", "plural", "render_diff", "visible", "write_atomic", "write_json"]
