"""Shared pieces of the fuzz tests: a per-example time limit and the error property.

Every parser under fuzz must either return a model or raise exactly one
:class:`fleet.errors.FleetError` whose message names the input (file, and line when the input
has lines). ``outcome`` runs one example under a time limit and checks that property.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from fleet.agent import wire
from fleet.errors import FleetError

T = TypeVar("T")

#: Seconds one example may take before it counts as a hang (the parsers take milliseconds; the
#: 3000-level group chain takes 1 s alone and took 9 s on this 2-core machine at load 10, so a
#: hang is what outlasts a minute).
EXAMPLE_SECONDS = float(os.environ.get("FLEET_FUZZ_EXAMPLE_SECONDS", "60"))
#: Last resort when a hang sits in C code that never returns to Python: dump every thread's
#: stack and exit, so CI fails instead of blocking.
HARD_SECONDS = EXAMPLE_SECONDS * 6

#: Examples per test; FLEET_FUZZ_SCALE=10 runs ten times as many (a longer local hunt).
SCALE = float(os.environ.get("FLEET_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    """``@settings`` for a fuzz test: no deadline (the guard below does that), a fixed budget."""
    return settings(
        deadline=None,
        max_examples=max(1, int(examples * SCALE)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
        database=None,
        derandomize=os.environ.get("CI") == "true",
    )


class Hang(AssertionError):
    """One example ran past :data:`EXAMPLE_SECONDS`."""


@contextlib.contextmanager
def time_limit(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread if the block runs longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"example still running after {seconds:g} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 6, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn`` under the time limit; any exception fails the test."""
    with time_limit():
        return fn()


def outcome(fn: Callable[[], Any], *, names: tuple[str, ...] = (), line: bool = False,
            allowed: tuple[type[BaseException], ...] = (FleetError,)) -> Any:
    """Run ``fn`` under the time limit; return its value or the (allowed) error it raised.

    Anything but an ``allowed`` error fails the test (the traceback shows where it came
    from). The error's text must name one of ``names`` (the input files), and with ``line``
    a ``file:LINE`` position in it.
    """
    with time_limit():
        try:
            return fn()
        except allowed as exc:
            check_message(exc, names, line)
            return exc


#: Errors known to lack a line, each pinned by an xfail(strict=True) test in test_fuzz_known.py
#: (the fix belongs to a file this suite's owner does not edit): remove an entry with its test.
KNOWN_WITHOUT_LINE: tuple[str, ...] = ()  # error texts allowed without a line (none left)


def check_message(exc: BaseException, names: tuple[str, ...], line: bool) -> None:
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} with an empty message"
    assert "Traceback" not in text
    if names:
        assert any(name in text for name in names), f"error does not name {names}: {text}"
    if any(known in text for known in KNOWN_WITHOUT_LINE):
        return
    if line and isinstance(exc, FleetError):
        location = exc.location
        assert location is not None and location.line > 0, f"error has no line: {text}"


def frame_header(flags: int, length: int, crc: int = 0, version: int = wire.VERSION) -> bytes:
    """A frame header with a correct header checksum, whatever its fields say."""
    head = wire.HEADER.pack(wire.MAGIC, version, flags, length, crc, 0)[:-4]
    return head + zlib.crc32(head).to_bytes(4, "big")
