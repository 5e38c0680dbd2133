"""Summaries of profiles: ``-X importtime`` output, cProfile stats, py-spy folded stacks."""

from __future__ import annotations

import io
import pstats
import re
from collections import Counter
from pathlib import Path

IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def import_times(stderr: str, top: int = 12) -> tuple[float, list[tuple[str, float]]]:
    """Total import time (s) and the slowest top-level imports (cumulative, s) from ``-X importtime``."""
    top_level: list[tuple[str, float]] = []
    total_us = 0
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        if indent == 1:  # imported by the main program itself, not by another module
            top_level.append((name, cumulative / 1e6))
            total_us += cumulative
    top_level.sort(key=lambda item: -item[1])
    return total_us / 1e6, top_level[:top]


def self_time_by_package(stderr: str, top: int = 12) -> tuple[float, list[tuple[str, float]]]:
    """Own import time (s) summed per top-level package, from ``-X importtime`` output.

    ``-X importtime`` slows imports down; use the shares, not the absolute numbers.
    """
    totals: Counter[str] = Counter()
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            totals[match.group(4).split(".")[0]] += int(match.group(1))
    whole = sum(totals.values())
    return whole / 1e6, [(name, us / 1e6) for name, us in totals.most_common(top)]


def area(filename: str, function: str) -> str:
    """A coarse "where" for a profiled function: a package, fleet's module, or a builtin kind."""
    if filename == "~":
        if "_socket.socket" in function or "select" in function or "epoll" in function:
            return "socket and poll system calls"
        if "ciphers" in function or "generate_tag" in function or "openssl" in function.lower():
            return "cryptography (native)"
        return "built-in " + function.strip("{}<>").removeprefix("built-in method ").removeprefix("method ")
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/fleet/" in path:
        parts = path.rsplit("/fleet/", 1)[1].removesuffix(".py").split("/")
        return "fleet." + ".".join(parts[:2])
    if path.startswith("<frozen"):
        return "importlib (frozen)"
    if "/lib/python3" in path:
        rest = path.split("/lib/python3", 1)[1].split("/", 1)[1]
        return "stdlib " + rest.split("/", 1)[0].removesuffix(".py")
    return Path(path).name


def cprofile_by_area(path: Path, top: int = 20) -> str:
    """Own time of a cProfile dump summed per :func:`area`, largest first."""
    stats = pstats.Stats(str(path))
    totals: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[area(filename, function)] += own
    whole = sum(totals.values()) or 1.0
    lines = [f"== own time by area ({whole:.3f} s profiled)"]
    lines += [f"{seconds:7.3f} s {100 * seconds / whole:5.1f}%  {name}" for name, seconds in totals.most_common(top)]
    return "\n".join(lines) + "\n"


def cprofile_summary(path: Path, top: int = 25) -> str:
    """The top functions of a cProfile dump by own time, then by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs()
    out.write(f"== by own time (tottime), top {top}\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"== by cumulative time, top {top}\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (file.py)``: one name per function, not per line."""
    match = re.match(r"(.*?) \((.*?)(?::\d+)?\)$", frame.strip())
    if not match:
        return frame.strip()
    return f"{match.group(1)} ({Path(match.group(2)).name})"


def folded_summary(path: Path, top: int = 25) -> str:
    """Own and inclusive sample shares per function from py-spy's ``--format raw`` output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", f"== own samples, top {top}"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += [f"== inclusive samples, top {top}"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
