"""What a template's syntax tree says: one bare expression or not, the names it uses
unguarded, where an error happened, and a short quote of its source for messages."""

from __future__ import annotations

import jinja2
from jinja2 import meta, nodes

from fleet.errors import Location, TemplateError

GUARD_FILTERS = frozenset({"default", "d"})
GUARD_TESTS = frozenset({"defined", "undefined"})


def snippet(source: str) -> str:
    text = source.strip()
    return repr(text if len(text) <= 80 else text[:77] + "...")


def escape_backslashes(source: str, env: jinja2.Environment) -> str:
    """``source`` with the backslashes of string constants inside ``{{ }}`` doubled.

    Ansible does this to every templated string that is not a template file (2.18's
    ``_escape_backslashes``, 2.19's lexer hook): YAML already processed the escapes, so
    ``'{{ x | regex_replace("v(\\d+)", "\\1") }}'`` keeps ``\\1`` instead of Jinja turning it
    into chr(1). ``{% %}`` blocks and bare conditionals (``when:``) are left alone, as in Ansible.
    """
    if "\\" not in source or env.variable_start_string not in source:
        return source
    out: list[str] = []
    inside = escaped = False
    try:
        for _, kind, value in env.lex(source):
            if kind == "variable_begin":
                inside = True
            elif kind == "variable_end":
                inside = False
            elif inside and kind == "string" and "\\" in value:
                value, escaped = value.replace("\\", "\\\\"), True
            out.append(value)
    except jinja2.TemplateSyntaxError:
        return source  # the parse that follows reports it against the source as written
    return "".join(out) if escaped else source


def single_expression(tree: nodes.Template) -> tuple[nodes.Expr, str, str] | None:
    """``(expr, lead, trail)`` if ``tree`` is one ``{{ expr }}`` with only whitespace around it."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    parts = list(tree.body[0].nodes)
    lead = trail = ""
    if parts and isinstance(parts[0], nodes.TemplateData) and not parts[0].data.strip():
        lead = parts.pop(0).data  # type: ignore[attr-defined]
    if parts and isinstance(parts[-1], nodes.TemplateData) and not parts[-1].data.strip():
        trail = parts.pop().data  # type: ignore[attr-defined]
    if len(parts) == 1 and not isinstance(parts[0], nodes.TemplateData):
        return parts[0], lead, trail
    return None


def template_line(exc: BaseException, template: jinja2.Template) -> int:
    """The line in ``template`` where ``exc`` was raised, 0 if unknown."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__jinja_template__") is template:
            return template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return 0


def unguarded_names(tree: nodes.Template, env: jinja2.Environment) -> tuple[set[str], set[str]]:
    """``(undeclared, guarded)``: the names ``tree`` reads from outside (macro and call-block
    bodies included), and those it guards with ``default``/``defined``/``undefined``."""
    guarded: set[str] = set()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        guards = GUARD_FILTERS if isinstance(node, nodes.Filter) else GUARD_TESTS
        if node.name in guards and node.node is not None:
            subject = node.node
            if isinstance(subject, nodes.Name):
                guarded.add(subject.name)
            guarded.update(name.name for name in subject.find_all(nodes.Name))
    found = meta.find_undeclared_variables(tree)
    # Jinja resolves names inside macro and call-block bodies at call time: check them too.
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    bound.update(m.name for m in tree.find_all(nodes.Macro))
    bound.update(("varargs", "kwargs", "caller"))
    bodies = [m.body for m in tree.find_all(nodes.Macro)] + [c.body for c in tree.find_all(nodes.CallBlock)]
    for statements in bodies:
        body = nodes.Template(list(statements), lineno=1)
        body.set_environment(env)
        found |= meta.find_undeclared_variables(body) - bound
    return set(found), guarded


def syntax_error(exc: jinja2.TemplateSyntaxError, source: str, location: Location | None,
                 file: bool) -> TemplateError:
    """A Jinja syntax error as one TemplateError (file templates: the line inside the file)."""
    if file and location is not None:
        return TemplateError(f"template syntax error: {exc.message}", Location(location.path, exc.lineno))
    line = f" (line {exc.lineno} of the template)" if "\n" in source.strip() else ""
    return TemplateError(f"template syntax error: {exc.message}{line} in {snippet(source)}", location)


def runtime_error(exc: Exception, source: str, location: Location | None) -> TemplateError:
    """Any failure while rendering as one clear TemplateError."""
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return TemplateError(f"unsafe template operation: {exc} in {snippet(source)}", location)
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(str(exc), location)
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(f"template not found: {exc}", location)
    if isinstance(exc, RecursionError):
        return TemplateError(f"recursive loop detected while templating {snippet(source)}", location)
    if isinstance(exc, jinja2.TemplateError):
        return TemplateError(f"template error: {exc} in {snippet(source)}", location)
    return TemplateError(f"error templating {snippet(source)}: {type(exc).__name__}: {exc}", location)
