"""``lookup()`` / ``query()`` / ``q()`` template globals and the lookup plugins that read the
controller: env, file, fileglob, first_found, template, lines, pipe, vars, varnames, password
(the data-shaping ones are in :mod:`~fleet.templating.filters.lookup_data`).

Like Ansible, ``lookup`` joins several results with commas (one result comes back as is)
unless ``wantlist=True``; ``query`` always returns a list. ``errors='ignore'|'warn'``
turn a failure into None (lookup) or ``[]`` (query). Files are found as Ansible's
``find_file_in_search_path`` finds them: along ``ansible_search_path`` (the role, the task
file's directory), each with the lookup's subdirectory (``files``, ``templates``, ``vars``)
and without, then the playbook directory. Lookups run on the controller; a name or path that
came from a host (:mod:`fleet.templating.unsafe`) is refused, never rendered or run.
"""

from __future__ import annotations

import os
import random
import string
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from fleet.errors import Location, TemplateError
from fleet.templating.filters.lookup_data import PLUGINS as DATA_PLUGINS
from fleet.templating.unsafe import confined, is_unsafe

_PREFIXES = ("ansible.builtin.", "ansible.legacy.")


class LookupContext:
    """What a lookup may know of the task: its variables, search path, and a renderer."""

    def __init__(self, variables: Mapping[str, Any], search_path: Sequence[str], renderer: Any,
                 subdir: str | None = None) -> None:
        self.variables = variables
        self.fallback = list(search_path)
        self.renderer = renderer
        self.subdir = subdir

    def _get(self, name: str) -> Any:
        try:
            return self.variables[name]
        except KeyError:
            return None

    def basedir(self) -> str:
        return str(self._get("playbook_dir") or (self.fallback[0] if self.fallback else os.getcwd()))

    def candidates(self, subdir: str | None, needle: str) -> list[str]:
        """Where Ansible's ``path_dwim_relative_stack`` looks for ``needle``, in order (no
        subdirectory: ``first_found`` outside a ``with_`` loop, as in ansible-core 2.19)."""
        paths = self._get("ansible_search_path")
        paths = [str(p) for p in paths] if isinstance(paths, (list, tuple)) else [self.basedir()]
        in_role = self._get("role_path") is not None
        first = needle.split("/")[0]
        search: list[str] = []
        for path in paths:
            upath = os.path.normpath(os.path.abspath(path))
            parent = os.path.dirname(upath)
            if in_role and parent.endswith("/tasks"):
                if subdir:
                    search.append(os.path.join(os.path.dirname(parent), subdir, needle))
                search.append(os.path.join(parent, needle))
            if subdir and first != subdir:
                search.append(os.path.join(upath, subdir, needle))
            search.append(os.path.join(upath, needle))
        base = self.basedir()
        if subdir and first != subdir:
            search.append(os.path.join(base, subdir, needle))
        search.append(os.path.join(base, needle))
        return search

    def find_file(self, subdir: str | None, needle: Any, what: str, missing_ok: bool = False) -> str:
        """The first existing candidate for ``needle``; TemplateError naming the places if none."""
        confined(needle, f"lookup('{what}')", None)
        needle = str(needle)
        path = os.path.expanduser(needle)
        if os.path.isabs(path):
            if os.path.exists(path) or missing_ok:
                return os.path.normpath(path)
            raise TemplateError(f"lookup('{what}'): could not locate file {needle!r}")
        search = self.candidates(subdir, path)
        for candidate in search:
            if os.path.exists(candidate):
                return os.path.normpath(candidate)
        if missing_ok:
            return ""
        raise TemplateError(f"lookup('{what}'): could not locate file {needle!r} (searched: {', '.join(search)})")


def _terms(terms: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        out.extend(term if isinstance(term, (list, tuple)) else [term])
    return out


def _env(terms: list[Any], ctx: LookupContext, default: str = "") -> list[Any]:
    for term in terms:
        if is_unsafe(term):  # the controller's environment is not for a host to browse
            raise TemplateError(f"lookup('env'): the variable name {str(term)[:80]!r} comes from data a host "
                                f"sent: refused")
    return [os.environ.get(str(term), default) for term in terms]


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"lookup('{what}'): cannot read {path}: {exc}") from None


def _file(terms: list[Any], ctx: LookupContext, rstrip: bool = True, lstrip: bool = False) -> list[Any]:
    results: list[Any] = []
    for term in terms:
        text = _read(ctx.find_file("files", term, "file"), "file")
        results.append(text.rstrip() if rstrip else text)
        if lstrip:
            results[-1] = results[-1].lstrip()
    return results


def _fileglob(terms: list[Any], ctx: LookupContext) -> list[Any]:
    import glob

    found: list[str] = []
    for term in terms:
        confined(term, "lookup('fileglob')", None)
        pattern = str(term)
        directory, name = os.path.split(pattern)
        base = ctx.find_file("files", directory, "fileglob", missing_ok=True) if directory else ""
        if not directory:
            bases = [os.path.dirname(c) for c in ctx.candidates("files", "x")]
            base = next((b for b in bases if os.path.isdir(b)), "")
        if base:
            found.extend(sorted(p for p in glob.glob(os.path.join(base, name)) if os.path.isfile(p)))
            if found:
                break
    return found


def _split(value: Any, separators: str) -> list[str]:
    if isinstance(value, str):
        out = [value]
        for sep in separators[1:]:
            out = [piece for part in out for piece in part.split(sep)]
        return [piece for part in out for piece in part.split(separators[0])]
    return [piece for item in (value or []) for piece in _split(item, separators)]


def _first_found(terms: list[Any], ctx: LookupContext, files: Any = None, paths: Any = None,
                 skip: bool = False) -> list[Any]:
    """The first file that exists among the candidates (Ansible's ``first_found``)."""
    candidates: list[str] = []
    terms = terms or ([{"files": files, "paths": paths, "skip": skip}] if files else [])
    while any(isinstance(term, (list, tuple)) for term in terms):  # nested lists of names
        terms = [item for term in terms for item in (term if isinstance(term, (list, tuple)) else [term])]
    for term in terms:
        if isinstance(term, Mapping):
            unknown = set(term) - {"files", "paths", "skip"}
            if unknown:
                raise TemplateError(f"first_found: unknown option {sorted(unknown)[0]!r} (files, paths, skip)")
            names = _split(term.get("files") or [], ",;")
            dirs = _split(term.get("paths") or paths or [], ",:;")
            skip = bool(term.get("skip", skip))
        elif isinstance(term, str):
            names, dirs = [term], _split(paths or [], ",:;")
        else:
            raise TemplateError(f"Invalid term supplied, can handle string, mapping or list of strings but got: "
                                f"{type(term).__name__} for {term!r}")
        if dirs:
            candidates += [os.path.join(d, n) for d in dirs for n in names]
        else:
            candidates += names
    for name in candidates:
        if name is None or (isinstance(name, str) and "{" in name and "{{" in name):
            continue  # a candidate whose variables were undefined is passed over, as Ansible does
        found = ctx.find_file(ctx.subdir, name, "first_found", missing_ok=True)
        if found and os.path.exists(found):
            return [found]
    if skip:
        return []
    raise TemplateError("No file was found when using first_found.")


def _template(terms: list[Any], ctx: LookupContext, convert_data: bool = True, template_vars: Any = None,
              **_ignored: Any) -> list[Any]:
    results: list[Any] = []
    for term in terms:
        path = ctx.find_file("templates", term, "template")
        variables = dict(template_vars or {})
        variables.setdefault("ansible_managed", ctx.variables.get("ansible_managed", "Ansible managed")
                             if isinstance(ctx.variables, Mapping) else "Ansible managed")
        results.append(ctx.renderer.render_lookup_template(_read(path, "template"), ctx.variables, variables,
                                                           Location(path)))
    return results


def _lines(terms: list[Any], ctx: LookupContext) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        out.extend(_run(term, "lines").splitlines())
    return out


def _pipe(terms: list[Any], ctx: LookupContext) -> list[Any]:
    return [_run(term, "pipe").rstrip() for term in terms]


def _run(term: Any, what: str) -> str:
    if is_unsafe(term):  # a command on the controller is never one a host wrote
        raise TemplateError(f"lookup('{what}'): the command {str(term)[:80]!r} comes from data a host sent: "
                            f"refused")
    done = subprocess.run(str(term), shell=True, capture_output=True, text=True, check=False)  # noqa: S602
    if done.returncode != 0:
        raise TemplateError(f"lookup('{what}'): {str(term)[:80]!r} exited {done.returncode}: "
                            f"{done.stderr.strip()[:200]}")
    return done.stdout


_MISSING = object()


def _vars(terms: list[Any], ctx: LookupContext, default: Any = _MISSING) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, str):
            raise TemplateError(f"lookup('vars'): invalid setting identifier, {term!r} is not a string")
        try:
            out.append(ctx.variables[term])
        except KeyError:
            if default is _MISSING:
                raise TemplateError(f"No variable found with this name: {term}") from None
            out.append(default)
    return out


def _varnames(terms: list[Any], ctx: LookupContext) -> list[Any]:
    import re

    names = list(ctx.variables)
    out: list[Any] = []
    for term in terms:
        try:
            pattern = re.compile(str(term))
        except re.error as exc:
            raise TemplateError(f"lookup('varnames'): unable to use {term!r} as a search parameter: {exc}") from None
        out.extend(name for name in names if pattern.search(name))
    return out


def _password_chars(chars: Any) -> str:
    names = chars if isinstance(chars, list) else str(chars).replace(",,", "\0").split(",")
    out = ""
    for name in names:
        name = str(name).replace("\0", ",")
        out += getattr(string, name, name) if name in ("ascii_letters", "ascii_lowercase", "ascii_uppercase",
                                                       "digits", "hexdigits", "octdigits", "punctuation",
                                                       "letters", "lowercase", "uppercase") else name
    return "".join(dict.fromkeys(out))


def _password(terms: list[Any], ctx: LookupContext, **kwargs: Any) -> list[Any]:
    """Ansible's file-backed password: read it from the file, or make one and store it there."""
    from fleet.templating.filters.extra import password_hash

    defaults: dict[str, Any] = {"length": 20, "chars": ["ascii_letters", "digits", ".,:-_"], "encrypt": None,
                                "ident": None, "seed": None, **kwargs}
    out: list[Any] = []
    for term in terms:
        confined(term, "lookup('password')", None)
        words = str(term).split()
        relpath, opts = words[0], dict(defaults)
        for word in words[1:]:
            name, sep, value = word.partition("=")
            if not sep or name not in defaults:
                raise TemplateError(f"lookup('password'): unrecognized option {word!r}")
            opts[name] = value
        path = relpath if relpath == "/dev/null" else os.path.join(ctx.basedir(), os.path.expanduser(relpath))
        content = _read(path, "password").rstrip("\n") if os.path.isfile(path) and path != "/dev/null" else None
        salt = None
        if content is None:
            pool = _password_chars(opts["chars"])
            generator = random.Random(opts["seed"]) if opts["seed"] else random.SystemRandom()
            plaintext = "".join(generator.choice(pool) for _ in range(int(opts["length"])))
            if opts["encrypt"]:
                salt = "".join(generator.choice(string.ascii_letters + string.digits + "./") for _ in range(16))
            if path != "/dev/null":
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(plaintext + (f" salt={salt}" if salt else "") + "\n")
        else:
            plaintext, _, rest = content.partition(" salt=")
            salt = rest or None
        if opts["encrypt"]:
            out.append(password_hash(plaintext, str(opts["encrypt"]), salt=salt, ident=opts["ident"]))
        else:
            out.append(plaintext)
    return out


_PLUGINS: dict[str, Callable[..., list[Any]]] = {
    "env": _env, "file": _file, "fileglob": _fileglob, "first_found": _first_found, "template": _template,
    "lines": _lines, "pipe": _pipe, "vars": _vars, "varnames": _varnames, "password": _password,
    **DATA_PLUGINS,
}
LOOKUP_NAMES = frozenset(_PLUGINS)


def run_lookup(name: str, terms: Sequence[Any], ctx: LookupContext, kwargs: Mapping[str, Any]) -> list[Any]:
    """Run lookup plugin ``name`` (short or ``ansible.builtin.`` name) over ``terms``."""
    short = str(name)
    for prefix in _PREFIXES:
        short = short.removeprefix(prefix)
    plugin = _PLUGINS.get(short)
    if plugin is None:
        source = getattr(ctx.renderer, "plugins", None)
        found = source.lookup(str(name)) if source is not None else None
        if found is not None:
            return found(list(terms), ctx.variables, dict(kwargs))
        raise TemplateError(f"unknown lookup plugin {name!r} (fleet supports: {', '.join(sorted(_PLUGINS))})")
    structural = ("nested", "cartesian", "together", "subelements", "first_found", "items", "list", "flattened",
                  "indexed_items", "dict", "random_choice")
    flat = list(terms) if short in structural else _terms(terms)
    try:
        return plugin(flat, ctx, **kwargs)
    except TypeError as exc:
        raise TemplateError(f"lookup({name!r}): bad arguments: {exc}") from None
    except OSError as exc:
        raise TemplateError(f"lookup({name!r}): {exc}") from None


def make_lookups(search_path: Sequence[str], renderer: Any = None) -> dict[str, Callable[..., Any]]:
    """Template globals ``lookup``, ``query`` and ``q``; files are searched along the task's
    ``ansible_search_path``, else ``search_path``."""

    def run(context: Context, name: str, terms: Sequence[Any], errors: str, kwargs: dict[str, Any]) -> list[Any] | None:
        ctx = LookupContext(context.parent, search_path, renderer)
        try:
            return run_lookup(name, terms, ctx, kwargs)
        except TemplateError:
            if errors in ("ignore", "warn"):
                return None
            raise

    @pass_context
    def lookup(context: Context, name: str, *terms: Any, wantlist: bool = False, errors: str = "strict",
               **kwargs: Any) -> Any:
        results = run(context, name, terms, errors, kwargs)
        if results is None or wantlist:
            return results
        if len(results) == 1:
            return results[0]
        return ",".join(str(result) for result in results)

    @pass_context
    def query(context: Context, name: str, *terms: Any, errors: str = "strict", **kwargs: Any) -> list[Any]:
        kwargs.pop("wantlist", None)
        results = run(context, name, terms, errors, kwargs)
        return [] if results is None else results

    return {"lookup": lookup, "query": query, "q": query}
