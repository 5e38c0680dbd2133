"""The secrets of one command, and redacting them from everything fleet shows or writes.

- :mod:`~fleet.secrets.store`: :class:`Secrets`, what a run knows to be secret (vault
  plaintext, passwords) and its ``redact`` methods.
- :mod:`~fleet.secrets.forms`: the forms a secret takes when printed (escaped, per line,
  base64) and the one regular expression that finds them all.
"""

from fleet.secrets.forms import MIN_LENGTH, shown_forms
from fleet.secrets.store import Secrets

__all__ = ["MIN_LENGTH", "Secrets", "shown_forms"]
