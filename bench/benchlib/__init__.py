"""The benchmark harness behind ``bench/run.py``: hosts, tool runners, measuring, reporting.

Modules:

* :mod:`benchlib.hosts`    -- the benchmark login user, the local sshd, per-host directories
* :mod:`benchlib.measure`  -- one measured command: wall time, controller CPU, peak RSS
* :mod:`benchlib.tools`    -- ``ToolRunner`` and one small subclass per tool (fleet for now)
* :mod:`benchlib.workloads` -- the playbooks under ``bench/workloads/``
* :mod:`benchlib.suite`    -- first apply / re-apply / check for one tool and host count
* :mod:`benchlib.report`   -- the markdown tables, RESULTS.md sections and raw JSON
* :mod:`benchlib.machine`  -- what machine the numbers come from
* :mod:`benchlib.quiet`    -- the machine's other load; waiting for a quiet machine
* :mod:`benchlib.profiling` -- summaries of import times, cProfile dumps, py-spy samples
* ``benchlib/reaper.py``   -- a stand-alone subreaper sshd runs under (host CPU accounting)
"""
