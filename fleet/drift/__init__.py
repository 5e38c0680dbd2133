"""``fleet drift``: check a playbook against the hosts nightly and report what has drifted.

A check-mode run's ``RunReport`` becomes a drift section (:mod:`~fleet.drift.model`), classified
against what a state directory knows (:mod:`~fleet.drift.history`); the section is the only
input of the writers (terminal, JUnit, Prometheus, HTML). :mod:`~fleet.drift.private` decides
which report files may hold host data.
"""

from fleet.drift.history import History
from fleet.drift.html import write_html
from fleet.drift.junit import write_junit
from fleet.drift.model import FAIL_ON, build_drift, known_after
from fleet.drift.private import PRIVATE_FILE, parse_report_modes
from fleet.drift.prom import write_prom
from fleet.drift.terminal import print_drift

__all__ = ["FAIL_ON", "PRIVATE_FILE", "History", "build_drift", "known_after", "parse_report_modes",
           "print_drift", "write_html", "write_junit", "write_prom"]
