"""asyncssh, imported with one deprecation notice silenced: import it from here.

asyncssh 2.24 names cryptography's DSA classes in its type hints, and cryptography 51
deprecates DSA, so importing asyncssh printed ten ``CryptographyDeprecationWarning: DSA is
deprecated ...`` lines on every run that opens SSH itself, whatever keys the run uses. They
are a notice to asyncssh's authors, not about the run. Exactly that warning is ignored: its
category, its message, and only when asyncssh's own modules raise it. Any other warning, and
DSA used by other code, still shows.

The filter is installed before the first ``import asyncssh`` (the warnings come from that
import and from asyncssh's later use of the same names), so every fleet module imports
asyncssh as ``from fleet.transport.sshlib import asyncssh``.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning,
                        module=r"asyncssh(\.|$)")

import asyncssh  # noqa: E402 - after the filter, on purpose

__all__ = ["asyncssh"]
