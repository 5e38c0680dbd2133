"""Frames from the controller, read as they arrive.

A thread reads stdin all the time, so the agent learns at once -- not only when it next
waits for a request -- that its run is over. Requests wait in line for the main thread;
control messages act immediately:

* ``stop``: the controller was interrupted: the task in flight finishes, no further task of
  the request (or a later one) runs;
* ``detach``: sent by the persistence daemon when the run that leased this agent hung up: as
  ``stop``, and once the request in flight is answered the agent lets go of the run (its lock);
* ``bye``, the end of stdin or an unreadable frame: the controller or the connection is gone:
  as ``detach``, and then the agent exits;
* a request that begins a new run (``begin``) clears ``stop``: it is handled here, in stream order, so
  a ``stop`` sent right after it is never lost.
"""

from __future__ import annotations

import queue
import threading

from fleet.agent import wire


class Inbox:
    """Reads frames from ``stream`` on a daemon thread; ``get`` hands out the requests."""

    def __init__(self, stream) -> None:
        self._queue: queue.Queue = queue.Queue()
        self.stopped = threading.Event()  # run no further task (stop, detach, end of input)
        self.closed = threading.Event()  # no more input will come
        self.error = ""  # why the input ended, when it was not a clean end of stream
        self._thread = threading.Thread(target=self._read, args=(stream,), name="fleet-inbox", daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        try:
            while True:
                frame = wire.read_frame(stream)
                if frame is None:
                    break
                op = frame.get("op")
                if op == "stop":
                    self.stopped.set()
                    continue
                if op in ("detach", "bye"):  # bye: the controller leaves, whatever it was waiting for
                    self.stopped.set()
                elif "begin" in frame:  # the first request of a new run
                    self.stopped.clear()
                self._queue.put(frame)
        except wire.FrameError as exc:
            self.error = str(exc)
        except (OSError, ValueError) as exc:  # stdin closed under us
            self.error = f"cannot read from the controller: {exc}"
        finally:
            self.stopped.set()
            self.closed.set()
            self._queue.put(None)

    def get(self):
        """The next request (``detach`` included, so it is handled in order), or None when
        the input has ended."""
        return self._queue.get()

    def gone(self) -> None:
        """The controller cannot be answered any more (a write failed): stop as for ``detach``."""
        self.stopped.set()
