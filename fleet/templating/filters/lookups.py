"""``lookup()`` / ``query()`` / ``q()`` template globals with the ``env`` and ``file`` plugins.

Like Ansible, ``lookup`` joins several results with commas (one result comes back as is)
unless ``wantlist=True``; ``query`` always returns a list. ``errors='ignore'|'warn'``
turn a failure into None (lookup) or ``[]`` (query).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from fleet.errors import TemplateError
from fleet.templating.unsafe import confined, is_unsafe

_PREFIXES = ("ansible.builtin.", "ansible.legacy.")


def _terms(terms: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        out.extend(term if isinstance(term, (list, tuple)) else [term])
    return out


def _env(terms: list[Any], search_path: Sequence[str], default: str = "") -> list[Any]:
    for term in terms:
        if is_unsafe(term):  # the controller's environment is not for a host to browse
            raise TemplateError(f"lookup('env'): the variable name {str(term)[:80]!r} comes from data a host "
                                f"sent: refused")
    return [os.environ.get(str(term), default) for term in terms]


def _inside(base: str, relative: str) -> str | None:
    """``base/relative`` if it stays inside ``base`` lexically, else None."""
    root = os.path.normpath(os.path.abspath(base))
    candidate = os.path.normpath(os.path.join(root, relative))
    if candidate != root and not candidate.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return candidate


def _find_file(term: str, search_path: Sequence[str]) -> str:
    path = os.path.expanduser(term)
    if os.path.isabs(path):
        if os.path.isfile(path):
            return path
        raise TemplateError(f"lookup('file'): could not locate file {term!r}")
    bases = list(search_path) or [os.getcwd()]
    for base in bases:
        candidate = _inside(base, path)
        if candidate is None:
            raise TemplateError(f"lookup('file'): {term!r} points outside the search path "
                                f"{', '.join(bases)}")
        if os.path.isfile(candidate):
            return candidate
    raise TemplateError(f"lookup('file'): could not locate file {term!r} in {', '.join(bases)}")


def _file(terms: list[Any], search_path: Sequence[str], rstrip: bool = True,
          lstrip: bool = False) -> list[Any]:
    results: list[Any] = []
    for term in terms:
        confined(term, "lookup('file')", None)
        path = _find_file(str(term), search_path)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"lookup('file'): cannot read {path}: {exc}") from None
        if rstrip:
            text = text.rstrip()
        if lstrip:
            text = text.lstrip()
        results.append(text)
    return results


_PLUGINS: dict[str, Callable[..., list[Any]]] = {"env": _env, "file": _file}


def make_lookups(search_path: Sequence[str]) -> dict[str, Callable[..., Any]]:
    """Template globals ``lookup``, ``query`` and ``q`` bound to ``search_path``."""

    def run(name: str, terms: Sequence[Any], errors: str, kwargs: dict[str, Any]) -> list[Any] | None:
        short = str(name)
        for prefix in _PREFIXES:
            short = short.removeprefix(prefix)
        plugin = _PLUGINS.get(short)
        if plugin is None:
            raise TemplateError(f"unknown lookup plugin {name!r} (fleet supports: {', '.join(_PLUGINS)})")
        try:
            return plugin(_terms(terms), search_path, **kwargs)
        except TypeError as exc:
            raise TemplateError(f"lookup({name!r}): bad arguments: {exc}") from None
        except TemplateError:
            if errors in ("ignore", "warn"):
                return None
            raise

    def lookup(name: str, *terms: Any, wantlist: bool = False, errors: str = "strict",
               **kwargs: Any) -> Any:
        results = run(name, terms, errors, kwargs)
        if results is None or wantlist:
            return results
        if len(results) == 1:
            return results[0]
        return ",".join(str(result) for result in results)

    def query(name: str, *terms: Any, errors: str = "strict", **kwargs: Any) -> list[Any]:
        kwargs.pop("wantlist", None)
        results = run(name, terms, errors, kwargs)
        return [] if results is None else results

    return {"lookup": lookup, "query": query, "q": query}
