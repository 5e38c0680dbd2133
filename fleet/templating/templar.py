"""Jinja2 templating with Ansible's semantics: the :class:`Templar`.

Environment options, checked against Ansible's own documentation and source:

* ``trim_blocks=True`` -- the template module's ``trim_blocks`` option defaults to ``yes``
  (doc fragment ``template_common``: "Since Ansible 0.9, templates are loaded with
  trim_blocks=True"); Ansible's environment uses the same for every templated string.
* ``lstrip_blocks=False`` -- template module option ``lstrip_blocks``, default ``no``.
* ``newline_sequence="\\n"`` -- template module option ``newline_sequence``, default ``'\\n'``.
* ``keep_trailing_newline=True`` -- Ansible's template action renders with
  ``preserve_trailing_newlines=True`` (and ``Templar.template`` defaults to it), which puts
  back the newline Jinja would strip; Jinja's own option does exactly that.
* ``None`` prints as an empty string inside string templates (Ansible's ``finalize``).
* A string that is exactly one ``{{ expr }}`` yields the expression's native Python value,
  like Ansible's native-Jinja mode (the default and only mode in ansible-core 2.19).

Unlike Ansible the environment is a :class:`~jinja2.sandbox.SandboxedEnvironment`
(``''.__class__`` and fleet's own objects are refused), and the ``do`` and ``loopcontrols``
extensions are always enabled. Host data (:mod:`fleet.templating.unsafe`) is never rendered.
"""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import ItemsView, KeysView, Mapping, Sequence, ValuesView
from typing import Any, ClassVar

import jinja2
from jinja2 import nodes
from jinja2.runtime import Undefined

from fleet.errors import FleetError, Location, TemplateError
from fleet.secrets import Secrets
from fleet.templating.environment import (
    FleetContext,
    FleetEnvironment,
    Overlay,
    Scope,
    fail_on_undefined,
    make_environment,
)
from fleet.templating.filters.lookups import LookupContext, run_lookup
from fleet.templating.plugins import LazyPlugins, PluginSource
from fleet.templating.tree import (
    escape_backslashes,
    runtime_error,
    single_expression,
    snippet,
    syntax_error,
    template_line,
    unguarded_names,
)
from fleet.templating.unsafe import (
    CONTROLLER,
    REMOTE,
    UNSAFE_TYPES,
    UnsafeText,
    taint_level,
    wrap,
)
from fleet.vault import VaultValue

_RESULT = "__fleet_result"


def is_template(value: str) -> bool:
    """True if ``value`` contains a Jinja2 variable, block or comment start marker."""
    return "{" in value and ("{{" in value or "{%" in value or "{#" in value)


class _Compiled:
    """A compiled template: ``native`` ones evaluate one expression to a Python value."""

    __slots__ = ("template", "native", "scan", "lead", "trail")

    def __init__(self, template: jinja2.Template, native: bool) -> None:
        self.template = template
        self.native = native
        self.scan = False  # result may be a fresh container that could hide an Undefined
        self.lead = self.trail = ""  # whitespace around a native expression, kept for str results


class _Cache:
    """A bounded dict: when full, the oldest entry goes."""

    __slots__ = ("data", "limit")

    def __init__(self, limit: int) -> None:
        self.data: dict[str, _Compiled] = {}
        self.limit = limit

    def put(self, key: str, value: _Compiled) -> _Compiled:
        if len(self.data) >= self.limit:
            del self.data[next(iter(self.data))]
        self.data[key] = value
        return value


class Templar:
    """Renders templates and evaluates conditionals against a (lazy) variable mapping.

    ``search_path`` lists the directories ``lookup('file', ...)`` and ``{% include %}``
    search; compiled templates are cached per instance (``cache_size`` entries per kind).
    """

    omit_token: ClassVar[str] = "__omit_place_holder__" + hashlib.sha1(os.urandom(64)).hexdigest()

    def __init__(self, search_path: Sequence[str | os.PathLike[str]] = (), *, cache_size: int = 4096,
                 secrets: Secrets | None = None) -> None:
        self.secrets = secrets if secrets is not None else Secrets()  # decrypts !vault values
        self.search_path = [os.fspath(p) for p in search_path]
        self.env = make_environment(self.search_path, self.omit_token, self)
        self._globals: Mapping[str, Any] = self.env.globals
        self._templates = _Cache(cache_size)
        self._files = _Cache(min(cache_size, 256))
        self._expressions = _Cache(cache_size)
        self._names: dict[tuple[str, bool], frozenset[str]] = {}
        self._overlays: dict[tuple[tuple[str, Any], ...], FleetEnvironment] = {}
        self.compile_count = 0
        self._plugins: PluginSource | None = None

    @property
    def plugins(self) -> PluginSource | None:
        """Where filters, tests and lookups fleet lacks are found (the Ansible bridge's source),
        asked only when a template first names one."""
        return self._plugins

    @plugins.setter
    def plugins(self, source: PluginSource | None) -> None:
        self._plugins = source
        for table, kind in ((self.env.filters, "filter"), (self.env.tests, "test")):
            if isinstance(table, LazyPlugins):
                table.use(getattr(source, kind) if source is not None else None)

    # ------------------------------------------------------------------ rendering

    def render(self, value: Any, variables: Mapping[str, Any], location: Location | None = None) -> Any:
        """Render every template in ``value`` (recursing into dicts, lists and tuples).

        A string that is exactly one ``{{ expr }}`` returns the native value; other
        templated strings render to ``str``; containers without templates come back as
        the same object. Host data (:mod:`fleet.templating.unsafe`) is never rendered, and what a
        template computes from host data comes back marked as host data.
        """
        if isinstance(value, str) and (not is_template(value) or isinstance(value, UNSAFE_TYPES)):
            return value
        return self._render(value, Scope(variables, self._globals), location)

    def _render(self, value: Any, scope: Scope, location: Location | None) -> Any:
        if isinstance(value, UNSAFE_TYPES):  # host data: text, never a template
            return value
        if isinstance(value, str):
            if not is_template(value):
                return value
            return self._run(self._compile(value, location), value, scope, location)
        if isinstance(value, VaultValue):  # decrypted where first used; the secret is literal text
            return self.secrets.decrypt(value.text, value.location)
        if isinstance(value, dict):
            loc = getattr(value, "location", None) or location
            out: dict[Any, Any] = {}
            changed = False
            for key, item in value.items():
                new_key = self._render(key, scope, loc) if isinstance(key, str) else key
                new_item = self._render(item, scope, loc)
                changed = changed or new_key is not key or new_item is not item
                out[new_key] = new_item
            return out if changed else value
        if isinstance(value, (list, tuple)):
            loc = getattr(value, "location", None) or location
            items = [self._render(item, scope, loc) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return tuple(items) if isinstance(value, tuple) else items
        return value

    def render_file(self, text: str, variables: Mapping[str, Any], location: Location | None = None, *,
                    options: Mapping[str, Any] | None = None) -> str:
        """Render a whole template file (the template module) to ``str``.

        ``options`` are Jinja2 settings the template task changes (``trim_blocks``,
        ``lstrip_blocks``, ``newline_sequence``, the delimiters: fleet.templating.fileopts).
        Errors carry ``location.path`` and the line inside the template file.
        """
        settings = tuple(sorted((options or {}).items()))
        key = f"{settings!r}:{text}"
        compiled = self._files.data.get(key)
        if compiled is None:
            env = self._file_env(settings)
            tree = self._parse(text, location, file=True, env=env)
            compiled = self._files.put(key, self._build(tree, text, location, native=False, env=env))
        result = self._run(compiled, text, Scope(variables, self._globals), location, file=True)
        return str(result)

    def render_lookup_template(self, text: str, variables: Mapping[str, Any], extra: Mapping[str, Any],
                               location: Location | None = None) -> str:
        """The ``template`` lookup: a template file rendered with ``extra`` over ``variables``."""
        return self.render_file(text, Overlay(extra, variables), location)

    def lookup(self, name: str, terms: Any, variables: Mapping[str, Any], *, subdir: str | None = "files",
               location: Location | None = None) -> list[Any]:
        """The items of a ``with_<name>`` loop: lookup ``name`` over ``terms`` (rendered already),
        with the task's variables (``ansible_search_path``...) and the subdirectory Ansible gives
        the lookup for the task's action (``templates``, ``vars`` or ``files``)."""
        ctx = LookupContext(variables, self.search_path, self, subdir)
        try:
            return run_lookup(name, terms if isinstance(terms, list) else [terms], ctx, {})
        except FleetError as exc:
            if exc.location is None:
                exc.location = location
            raise

    def _file_env(self, settings: tuple[tuple[str, Any], ...]) -> FleetEnvironment:
        if not settings:
            return self.env
        env = self._overlays.get(settings)
        if env is None:
            env = self._overlays[settings] = self.env.overlay(**dict(settings))
        return env

    def evaluate(self, expr: Any, variables: Mapping[str, Any], location: Location | None = None) -> Any:
        """Evaluate a bare expression (``when:``, ``changed_when:``, ``until:``...).

        Non-strings and host data come back unchanged; a string with ``{{ }}`` markers is
        rendered instead.
        """
        if not isinstance(expr, str) or isinstance(expr, UNSAFE_TYPES):
            return expr
        if is_template(expr):
            return self.render(expr, variables, location)
        return self._run(self._compile_expr(expr, location), expr, Scope(variables, self._globals), location)

    def truth(self, cond: Any, variables: Mapping[str, Any], location: Location | None = None) -> bool:
        """Evaluate a conditional the way Ansible's ``when:`` does.

        ``cond`` may be a bool, an expression string, a ``"{{ expr }}"`` string (its result,
        if a string, is evaluated again as an expression, like Ansible) or a list of
        these, all of which must be true. None and empty strings are false. As in Ansible,
        a conditional that is host data, or whose ``{{ }}`` rendered to text computed from
        host data, is an error: host data is never evaluated as an expression.
        """
        if isinstance(cond, bool):
            return cond
        if isinstance(cond, (list, tuple)):
            return all(self.truth(item, variables, location) for item in cond)
        if cond is None:
            return False
        if not isinstance(cond, str):
            return bool(cond)
        if isinstance(cond, UNSAFE_TYPES):
            raise TemplateError("a conditional that is host data (sent by a host) is never evaluated as an "
                                "expression", location)
        scope = Scope(variables, self._globals)
        if is_template(cond):
            value = self._render(cond, scope, location)
            if not isinstance(value, str):
                return self._bool(value, cond, location)
            if isinstance(value, UnsafeText) and value.strip():
                raise TemplateError(
                    f"conditional {snippet(cond)} rendered to text computed from host data, which is "
                    f"never evaluated again as an expression: write the condition without {{{{ }}}} "
                    f"(when: x == 'y'), or make it a boolean", location)
            cond = value
        cond = cond.strip()
        if not cond:
            return False
        if cond.lower() in ("yes", "no", "on", "off"):
            return cond.lower() in ("yes", "on")
        value = self._run(self._compile_expr(cond, location), cond, scope, location)
        return self._bool(value, cond, location)

    @staticmethod
    def _bool(value: Any, source: str, location: Location | None) -> bool:
        try:
            return bool(value)
        except jinja2.UndefinedError as exc:
            raise TemplateError(str(exc), location) from None

    # ------------------------------------------------------------------ static checks

    def check_syntax(self, value: Any, location: Location | None = None) -> None:
        """Compile every template in ``value``; raise :class:`TemplateError` on the first bad one."""
        if isinstance(value, str):
            if is_template(value):
                self._compile(value, location)
        elif isinstance(value, dict):
            loc = getattr(value, "location", None) or location
            for key, item in value.items():
                self.check_syntax(key, loc)
                self.check_syntax(item, loc)
        elif isinstance(value, (list, tuple)):
            loc = getattr(value, "location", None) or location
            for item in value:
                self.check_syntax(item, loc)

    def check_expression(self, expr: Any, location: Location | None = None) -> None:
        """Compile a bare expression (``when:``) or a list of them; raise on syntax errors."""
        if isinstance(expr, (list, tuple)):
            for item in expr:
                self.check_expression(item, location)
        elif isinstance(expr, str):
            if is_template(expr):
                self._compile(expr, location)
            elif expr.strip():
                self._compile_expr(expr, location)

    def check_file_syntax(self, text: str, location: Location | None = None, *,
                          options: Mapping[str, Any] | None = None) -> None:
        """Parse a template file (with the Jinja2 ``options`` of its task, as render_file);
        syntax errors carry the line inside the file."""
        self._parse(text, location, file=True, env=self._file_env(tuple(sorted((options or {}).items()))))

    def referenced_names(self, value: Any, *, bare: bool = False) -> set[str]:
        """Top-level variable names that ``value``'s templates use unguarded.

        Names that appear (anywhere in the same template) as the input of a
        ``default``/``d`` filter or a ``defined``/``undefined`` test are guarded; names
        bound inside the template and template globals (``lookup``, ``omit``...) are
        ignored. With ``bare=True`` strings are bare expressions, as in ``when:``.
        """
        found: set[str] = set()
        self._collect_names(value, bare, found)
        return found

    def _collect_names(self, value: Any, bare: bool, found: set[str]) -> None:
        if isinstance(value, str):
            if is_template(value):
                found |= self._names_of(value, False)
            elif bare and value.strip():
                found |= self._names_of(value, True)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._collect_names(key, False, found)
                self._collect_names(item, bare, found)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._collect_names(item, bare, found)

    def _names_of(self, source: str, bare: bool) -> frozenset[str]:
        key = (source, bare)
        cached = self._names.get(key)
        if cached is not None:
            return cached
        tree = self._parse("{{ " + source + " }}" if bare else source, None, file=False)
        found, guarded = unguarded_names(tree, self.env)
        names = frozenset(found - guarded - set(self._globals))
        if len(self._names) >= self._templates.limit:
            self._names.clear()
        self._names[key] = names
        return names

    # ------------------------------------------------------------------ compilation

    def _parse(self, source: str, location: Location | None, *, file: bool,
               env: jinja2.Environment | None = None) -> nodes.Template:
        try:
            return (env or self.env).parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise syntax_error(exc, source, location, file) from None

    def _compile(self, source: str, location: Location | None) -> _Compiled:
        compiled = self._templates.data.get(source)
        if compiled is not None:
            return compiled
        tree = self._parse(escape_backslashes(source, self.env), location, file=False)
        single = single_expression(tree)
        if single is None:
            return self._templates.put(source, self._build(tree, source, location, native=False))
        compiled = self._build_expr(single[0], source, location)
        compiled.lead, compiled.trail = single[1], single[2]
        return self._templates.put(source, compiled)

    def _compile_expr(self, source: str, location: Location | None) -> _Compiled:
        compiled = self._expressions.data.get(source)
        if compiled is not None:
            return compiled
        parser = jinja2.parser.Parser(self.env, source, state="variable")
        try:
            expr = parser.parse_expression()
            if not parser.stream.eos:
                raise jinja2.TemplateSyntaxError(
                    f"unexpected {parser.stream.current.value!r} after the expression",
                    parser.stream.current.lineno)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"expression syntax error: {exc.message} in {snippet(source)}",
                                location) from None
        return self._expressions.put(source, self._build_expr(expr, source, location))

    def _build_expr(self, expr: nodes.Expr, source: str, location: Location | None) -> _Compiled:
        body: list[nodes.Node] = [nodes.Assign(nodes.Name(_RESULT, "store"), expr, lineno=expr.lineno)]
        tree = nodes.Template(body, lineno=1)
        tree.set_environment(self.env)
        plain = isinstance(expr, (nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Const))
        compiled = self._build(tree, source, location, native=True)
        compiled.scan = not plain
        return compiled

    def _build(self, tree: nodes.Template, source: str, location: Location | None, *,
               native: bool, env: jinja2.Environment | None = None) -> _Compiled:
        try:
            template = (env or self.env).from_string(tree)
        except jinja2.TemplateSyntaxError as exc:
            raise syntax_error(exc, source, location, not native) from None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template error: {exc} in {snippet(source)}", location) from None
        self.compile_count += 1
        return _Compiled(template, native)

    # ------------------------------------------------------------------ running

    def _run(self, compiled: _Compiled, source: str, scope: Mapping[str, Any],
             location: Location | None, *, file: bool = False) -> Any:
        template = compiled.template
        ctx = FleetContext(template.environment, scope, template.name, template.blocks)  # type: ignore[arg-type]
        taint = self.env.taint
        taint.append(0)
        try:
            result = self._produce(compiled, ctx)
            level = taint[-1] if taint[-1] == REMOTE else max(taint[-1], taint_level(result))
            if level:  # computed from host data: host data too (remote if any of it was)
                return wrap(result, controller=level == CONTROLLER)
            return result
        except FleetError as exc:
            if exc.location is None:
                exc.location = location
            raise
        except Exception as exc:  # every other failure becomes one clear TemplateError
            if file and location is not None:
                location = Location(location.path, template_line(exc, template) or location.line)
            raise runtime_error(exc, source, location) from None
        finally:
            taint.pop()

    @staticmethod
    def _produce(compiled: _Compiled, ctx: FleetContext) -> Any:
        template = compiled.template
        if not compiled.native:
            return "".join(template.root_render_func(ctx))
        for _ in template.root_render_func(ctx):
            pass
        result = ctx.vars[_RESULT]
        if isinstance(result, Undefined):
            result._fail_with_undefined_error()
        if isinstance(result, str):
            return compiled.lead + result + compiled.trail if compiled.lead or compiled.trail else result
        if isinstance(result, (types.GeneratorType, KeysView, ValuesView, ItemsView)):
            result = list(result)
            fail_on_undefined(result)
        elif compiled.scan and isinstance(result, (list, tuple, dict)):
            fail_on_undefined(result)
        return result
