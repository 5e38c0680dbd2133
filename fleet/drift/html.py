"""``fleet drift --html PATH``: the drift section as one self-contained HTML page.

Inline CSS only: no scripts, fonts, images or links to load, so the page can be mailed,
archived as a CI artifact or opened from disk. Diffs fold with ``<details>``. Every value is
escaped by jinja2's autoescape, control characters are shown as ``\\xNN``; values are shown as
the producer redacted them.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from fleet.drift.junit import format_value, utc_time, xml_safe
from fleet.report import write_atomic

# Worst first: the overview and the host sections list hosts in this order, then by name.
STATUS_ORDER = ("drifted", "failed", "unreachable", "clean")
# Badge colours per host status (white text on each). Tests look for DRIFTED_COLOUR's pixels.
DRIFTED_COLOUR = "#d9480f"
BADGE_COLOURS = {"drifted": DRIFTED_COLOUR, "clean": "#2b8a3e", "unreachable": "#6c757d",
                 "failed": "#a51d2d"}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
       max-width: 1200px; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #495057; margin: 0 0 1rem; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; padding: 0; }
.counts li { list-style: none; border: 1px solid #dee2e6; border-radius: 6px; padding: .3rem .7rem; }
.counts b { font-size: 1.1rem; margin-right: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid #dee2e6; }
th { background: #f1f3f5; white-space: nowrap; } td.num { text-align: right; width: 6rem; }
.badge { display: inline-block; min-width: 6.5rem; text-align: center; padding: .15rem .5rem;
         border-radius: 4px; color: #fff; font-weight: 600; }
{% for status, colour in colours.items() %}.badge.{{ status }} { background: {{ colour }}; }
{% endfor %}.state { font-weight: 600; } .state.new { color: #1864ab; } .state.persisting { color: #5f3dc4; }
.error { color: #a51d2d; white-space: pre-wrap; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85rem; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
details { margin: .25rem 0 .75rem; } summary { cursor: pointer; color: #1864ab; }
.diff { border: 1px solid #dee2e6; border-radius: 4px; padding: .4rem; margin: .4rem 0; }
.diff .add { background: #e6ffec; } .diff .del { background: #ffebe9; } .diff .hunk { color: #6f42c1; }
.clean-note { color: #2b8a3e; font-weight: 600; }
</style></head>
<body>
<h1>{{ title }}</h1>
<p class="meta">run {{ d.run_id }} · inventory {{ inventory }} · {{ "%.1f"|format(duration) }} s ·
exit code {{ d.exit_code }} ({{ exit_meaning }})</p>
<ul class="counts">{% for label, value in counts %}<li><b>{{ value }}</b>{{ label }}</li>{% endfor %}</ul>
<h2>Hosts</h2>
<table id="overview"><thead><tr><th>host</th><th>status</th><th class="num">drifted tasks</th>
<th class="num">new</th><th class="num">persisting</th></tr></thead><tbody>
{% for h in hosts %}<tr id="host-{{ loop.index }}"><td><code>{{ h.name }}</code></td>
<td><span class="badge {{ h.status }}">{{ h.status }}</span></td><td class="num">{{ h.drifted|length }}</td>
<td class="num">{{ h.new }}</td><td class="num">{{ h.persisting }}</td></tr>
{% endfor %}</tbody></table>
{% if not problems %}<p class="clean-note">No drift, no errors: every host matches the playbook.</p>{% endif %}
{% for h in problems %}
<section class="host"><h2><code>{{ h.name }}</code> <span class="badge {{ h.status }}">{{ h.status }}</span></h2>
{% if h.error %}<p class="error">{{ h.error }}</p>{% endif %}
{% if h.drifted %}<table><thead><tr><th>task</th><th>role</th><th>module</th><th>location</th>
<th>drift</th><th>first seen</th></tr></thead><tbody>
{% for t in h.drifted %}<tr><td>{{ t.task }}</td><td>{{ t.role }}</td><td><code>{{ t.module }}</code></td>
<td><code>{{ t.location }}</code></td><td><span class="state {{ t.state }}">{{ t.state }}</span></td>
<td>{{ t.first_seen }}</td></tr>
<tr><td colspan="6">{% if t.rows or t.diffs %}<details><summary>{{ t.fields|join(", ") }}</summary>
{% if t.rows %}<table><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead><tbody>
{% for f in t.rows %}<tr><td><code>{{ f.field }}</code></td><td><pre>{{ f.before }}</pre></td>
<td><pre>{{ f.after }}</pre></td></tr>{% endfor %}</tbody></table>{% endif %}
{% for field, lines in t.diffs %}<div class="diff"><b>{{ field }}</b><pre>
{%- for cls, line in lines %}<span class="{{ cls }}">{{ line }}</span>
{% endfor %}</pre></div>{% endfor %}
</details>{% else %}{{ t.fields|join(", ") }}{% endif %}</td></tr>
{% endfor %}</tbody></table>{% endif %}
{% if h.failed %}<table><thead><tr><th>task</th><th>role</th><th>module</th><th>location</th>
<th>status</th><th>message</th></tr></thead><tbody>
{% for t in h.failed %}<tr><td>{{ t.task }}</td><td>{{ t.role }}</td><td><code>{{ t.module }}</code></td>
<td><code>{{ t.location }}</code></td><td>{{ t.status }}</td><td class="error">{{ t.msg }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
</section>
{% endfor %}
<h2>Resolved since last run</h2>
{% if resolved %}<table id="resolved"><thead><tr><th>host</th><th>task</th><th>role</th><th>module</th>
<th>location</th><th>fields</th><th>drifted since</th></tr></thead><tbody>
{% for r in resolved %}<tr><td><code>{{ r.host }}</code></td><td>{{ r.task }}</td><td>{{ r.role or "" }}</td>
<td><code>{{ r.module }}</code></td><td><code>{{ r.location }}</code></td><td>{{ (r.fields or [])|join(", ") }}</td>
<td>{{ r.first_seen }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>Nothing.</p>{% endif %}
</body></html>
"""

_EXIT_MEANING = {0: "no drift", 2: "drift", 1: "errors"}


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff's lines, each with its CSS class (add, del, hunk or none)."""
    lines = []
    for line in str(diff).rstrip("\n").split("\n"):
        if line.startswith(("+++", "---")):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "hunk" if line.startswith("@@") else ""
        lines.append((cls, line))
    return lines


def _drifted_task(task: dict[str, Any]) -> dict[str, Any]:
    drift = task.get("drift") or {}
    before, after = drift.get("before") or {}, drift.get("after") or {}
    fields = [str(field) for field in drift.get("fields") or []]
    return {"task": task.get("task", ""), "role": task.get("role") or "",
            "module": task.get("module", ""), "location": task.get("location", ""),
            "state": drift.get("state", "new"), "first_seen": utc_time(drift.get("first_seen")),
            "fields": fields,
            "rows": [{"field": field,
                      "before": format_value(before[field]) if field in before else "",
                      "after": format_value(after[field]) if field in after else ""}
                     for field in fields if field in before or field in after],
            "diffs": [(str(field), _diff_lines(diff))
                      for field, diff in (drift.get("unified") or {}).items()]}


def _host(name: str, report: dict[str, Any]) -> dict[str, Any]:
    tasks = report.get("tasks") or []
    drifted = [_drifted_task(task) for task in tasks if task.get("status") == "drift"]
    failed = [{**task, "role": task.get("role") or ""} for task in tasks
              if task.get("status") in ("failed", "unreachable")]
    return {"name": name, "status": report.get("status", "clean"),
            "error": report.get("error") or "", "drifted": drifted, "failed": failed,
            "new": sum(task["state"] == "new" for task in drifted),
            "persisting": sum(task["state"] == "persisting" for task in drifted)}


def render_html(drift: dict[str, Any]) -> str:
    """The drift section as a self-contained HTML page (inline CSS, no scripts, all escaped)."""
    hosts = [_host(str(name), report) for name, report in (drift.get("hosts") or {}).items()]
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    hosts.sort(key=lambda host: (rank.get(host["status"], len(rank)), host["name"]))
    summary = drift.get("summary") or {}
    labels = ("hosts", "drifted", "clean", "unreachable", "failed", "drifted_tasks", "new",
              "persisting", "resolved")
    resolved = [{**entry, "first_seen": utc_time(entry.get("first_seen"))}
                for entry in drift.get("resolved") or []]
    # finalize: control characters (and lone surrogates) are shown as \xNN, then escaped.
    env = Environment(autoescape=True, keep_trailing_newline=True,
                      finalize=lambda value: xml_safe(value) if isinstance(value, str) else value)
    return env.from_string(_TEMPLATE).render(
        d=drift, title=f"fleet drift {utc_time(drift.get('started'))} · {drift.get('playbook', '')}",
        inventory=", ".join(map(str, drift.get("inventory") or [])),
        duration=float(drift.get("duration_s") or 0),
        exit_meaning=_EXIT_MEANING.get(drift.get("exit_code", -1), "unknown"),
        counts=[(label.replace("_", " "), summary.get(label, 0)) for label in labels],
        hosts=hosts, problems=[host for host in hosts if host["status"] != "clean"],
        resolved=resolved, colours=BADGE_COLOURS)


def write_html(drift: dict[str, Any], path: str, mode: int | None = None) -> None:
    """Write ``render_html(drift)`` to ``path`` (UTF-8), atomically, with permissions ``mode``."""
    write_atomic(path, render_html(drift).encode("utf-8"), mode)
