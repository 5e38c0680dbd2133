"""A whole run: plays in order, each by a :class:`~fleet.executor.play.PlayRunner`, and the
run's report (``run_playbook``, above the play runner; what they share is
:mod:`fleet.executor.state`)."""

from __future__ import annotations

import time

from fleet.executor.play import PlayRunner
from fleet.executor.state import RunState
from fleet.playbook import Playbook
from fleet.result import RunReport
from fleet.secrets import Secrets


async def run_playbook(state: RunState, playbook: Playbook) -> RunReport:
    """Run every play of ``playbook``; always closes the connections it opened."""
    started = time.perf_counter()
    secrets = state.options.secrets
    known = len(secrets)
    try:
        for play in playbook.plays:
            if state.interrupted is not None:
                break
            runner = PlayRunner(state, play)
            state.play = runner.state
            await runner.run_play()
            if runner.state.aborted:  # any_errors_fatal, max_fail_percentage, a whole batch failed
                break
    finally:
        state.play = None
        await state.close()
        state.report.duration_s = time.perf_counter() - started
        state.finish_report(playbook.plays)
    if len(secrets) != known:
        _redact_late(state.report, secrets)
    state.reporter.run_end(state.report)
    return state.report


def _redact_late(report: RunReport, secrets: Secrets) -> None:
    """Redact the report again with every secret known at its end: an inline vault value is a
    secret from the task that first uses it on, and a host may have shown it before (the old
    content of a file in a diff). The terminal has printed those lines; the files written from
    the report (``--json``, drift's reports and state) and the API's report hide it."""
    for host in report.hosts.values():
        host.results = [secrets.result(result) for result in host.results]
    report.warnings = [secrets.redact(warning) for warning in report.warnings]
