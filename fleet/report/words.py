"""Counting words in output: ``1 host``, ``2 hosts``."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 host``, ``2 hosts`` (``words`` when the plural is not ``word + "s"``)."""
    return f"{count} {word if count == 1 else words or word + 's'}"
