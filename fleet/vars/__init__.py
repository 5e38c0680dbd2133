"""Variables: where they come from and how one host sees them.

- :mod:`~fleet.vars.layers`: :class:`Layer` (one source of variables), :data:`PRECEDENCE`
  (the kinds, lowest first) and :class:`Final` (a value that is data, never templated).
- :mod:`~fleet.vars.hostvars`: :class:`HostVars`, the lazy per-host mapping over layers
  (rendered on first access), and the rows of ``fleet vars --explain`` (:class:`ExplainRow`).
"""

from fleet.vars.hostvars import ExplainRow, HostVars
from fleet.vars.layers import PRECEDENCE, Final, Layer

__all__ = ["PRECEDENCE", "ExplainRow", "Final", "HostVars", "Layer"]
