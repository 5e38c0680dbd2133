"""Free-form module arguments: ``file: path=/x state=touch``, ``shell: echo hi creates=/f``.

Follows Ansible's ``split_args``/``parse_kv``: the text is split on spaces, but never inside
quotes or inside a Jinja2 ``{{ }}``/``{% %}``/``{# #}`` block; newlines outside them are kept at
the end of the token before them, so multi-line shell scripts survive. ``key=value`` tokens
become keys with the outer quotes of the value removed; every other token is "free form".
:func:`module_args` and :func:`check_module_args` turn a task's module value into its args dict.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any

from fleet.errors import InputError, Location
from fleet.playbook.keywords import as_mapping, as_str, parse_apply, suggest, type_name, where
from fleet.playbook.roles import parse_role_options

#: Modules whose free-form text is a command line, stored as ``cmd``.
COMMAND_MODULES = frozenset({"command", "shell", "raw", "script"})

#: The only ``k=v`` options Ansible pulls out of a command line (the rest stays in ``cmd``).
COMMAND_OPTIONS = frozenset({
    "creates", "removes", "chdir", "executable", "stdin", "stdin_add_newline",
    "strip_empty_ends", "warn",
})

#: Controller actions whose free-form text is a file name, stored as ``file``.
FILE_ACTIONS = frozenset({"include_tasks", "import_tasks", "include_vars"})

#: Controller actions whose free-form text is kept verbatim in ``_raw_params``.
RAW_ACTIONS = frozenset({"meta"})

#: The actions ``meta:`` accepts.
META_ACTIONS = frozenset({
    "flush_handlers", "noop", "refresh_inventory", "clear_facts", "clear_host_errors",
    "end_play", "end_batch", "end_host", "end_role", "reset_connection",
})

_JINJA = (("{{", "}}"), ("{%", "%}"), ("{#", "#}"))


def split_args(text: str) -> list[str]:
    """Split ``text`` as Ansible's ``split_args`` does; quotes stay in the tokens.

    Lines split on single spaces; a token inside quotes or a Jinja2 block joins the one before
    it; extra spaces and line ends are appended to the token before them, so that
    :func:`join_args` gives back the text's whitespace (``shell: |`` keeps its indentation and
    its trailing newline); a lone ``\\`` continues the line. Raises ValueError when a quote or
    a Jinja2 block is left open.
    """
    if not text:
        return []
    tokens: list[str] = []
    quote: str | None = None
    depth = [0, 0, 0]  # open {{ }}, {% %}, {# #}
    lines = text.split("\n")
    for number, line in enumerate(lines):
        continued = False
        for index, token in enumerate(line.split(" ")):
            if not token and index:
                if not tokens:
                    tokens.append("")
                tokens[-1] += " "
                continue
            if token == "\\" and quote is None:
                continued = True
                continue
            was_quoted = quote is not None
            quote = _quote_state(token, quote)
            enclosed = any(depth)
            appended = False
            if quote is not None and not was_quoted and not enclosed:
                tokens.append(token)
                appended = True
            elif enclosed or quote is not None or was_quoted:
                tokens[-1] += (" " if index else "") + token
                appended = True
            for n, (opening, closing) in enumerate(_JINJA):
                before = depth[n]
                opened, closed = token.count(opening), token.count(closing)
                if opened != closed:
                    depth[n] = max(0, depth[n] + opened - closed)
                if depth[n] != before and not appended:
                    tokens.append(token)
                    appended = True
            if not any(depth) and quote is None and not appended and token:
                tokens.append(token)
        if len(lines) > 1 and number != len(lines) - 1 and not continued:
            if not tokens:
                tokens.append("")
            tokens[-1] += "\n"
    if quote is not None or any(depth):
        raise ValueError("unbalanced quotes or Jinja2 block")
    return tokens


def _quote_state(token: str, quote: str | None) -> str | None:
    """The open quote after ``token`` (None: outside quotes); a backslash escapes a quote."""
    for index, char in enumerate(token):
        if char in "\"'" and (index == 0 or token[index - 1] != "\\"):
            if quote is None:
                quote = char
            elif char == quote:
                quote = None
    return quote


def join_args(tokens: list[str]) -> str:
    """Join tokens back with single spaces, keeping the newlines they end with."""
    result = ""
    for token in tokens:
        if not result or result.endswith("\n"):
            result += token
        else:
            result += " " + token
    return result


_ESCAPE = re.compile(r"""\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|N\{[^}]+\}|[\\'"abfnrtv])""")


def decode_escapes(value: str) -> str:
    """Backslash escapes in a ``k=v`` value (``\\n``, ``\\t``, ``\\x41``...), as Ansible's parse_kv."""
    return _ESCAPE.sub(lambda m: codecs.decode(m.group(0), "unicode_escape"), value)


def unquote(value: str) -> str:
    """Remove one pair of matching outer quotes, as Ansible does for ``k="v w"``."""
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'" and value[-2] != "\\":
        return value[1:-1]
    return value


def _split_pair(token: str, template_keys: bool = False) -> tuple[str, str] | None:
    """``key=value`` → (key, value) at the first unescaped ``=``; None for other tokens. With
    ``template_keys``, a key may be a template (``set_fact: "{{ item.key }}={{ item.value }}"``,
    rendered when the task runs, as Ansible's set_fact renders its keys)."""
    pos = token.find("=")
    while pos > 0 and token[pos - 1] == "\\":
        pos = token.find("=", pos + 1)
    if pos <= 0:
        return None
    key = token[:pos].strip()
    if not key.isidentifier() and not (template_keys and key.startswith("{{") and key.endswith("}}")):
        return None
    return key, token[pos + 1:].strip()


def parse_kv(text: str, *, options: frozenset[str] | None = None,
             template_keys: bool = False) -> tuple[dict[str, str], list[str]]:
    """Split ``text`` into ``key=value`` options and the remaining free-form tokens.

    With ``options`` given (command-like modules), only those keys are options; any other
    ``k=v`` token stays in the free-form part, quotes and all.
    """
    result: dict[str, str] = {}
    rest: list[str] = []
    for token in split_args(text):
        pair = _split_pair(token, template_keys)
        if pair is None or (options is not None and pair[0] not in options):
            rest.append(token.replace("\\=", "=") if pair is None else token)
            continue
        result[pair[0]] = unquote(decode_escapes(pair[1]))
    return result, rest


def parse_free_form(module: str, text: str, location: Location | None) -> dict[str, Any]:
    """The args dict for ``module: <text>``; InputError (at ``location``) if they make no sense."""
    try:
        if module in COMMAND_MODULES:
            args: dict[str, Any]
            args, rest = parse_kv(text, options=COMMAND_OPTIONS)
            if rest:
                args["cmd"] = join_args(rest)
            return args
        args, rest = parse_kv(text, template_keys=module == "set_fact")
        rest = [token for token in rest if token.strip()]  # spaces alone: no free-form text
    except ValueError as exc:
        raise InputError(f"cannot split the arguments of {module}: {exc}: {text!r}", location) from None
    if rest:
        free = join_args(rest).strip()
        if module in FILE_ACTIONS and "file" not in args:
            args["file"] = free
        elif module in RAW_ACTIONS:
            args["_raw_params"] = free
        else:
            raise InputError(
                f"module {module} does not take free-form text ({rest[0]!r}); "
                "write its arguments as key=value or as a mapping", location)
    return args


def module_args(module: str, raw: Any, loc: Location) -> dict[str, Any]:
    """The args dict of ``module: raw`` (a mapping, or free-form/k=v text)."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return as_mapping(raw, f"arguments of {module}", loc)
    if isinstance(raw, str) or (isinstance(raw, int | float) and not isinstance(raw, bool)):
        return parse_free_form(module, str(raw), loc)
    raise InputError(f"arguments of {module} must be a mapping or key=value text, "
                     f"got {type_name(raw)}", where(raw, loc))


def check_module_args(module: str, args: dict[str, Any], loc: Location) -> dict[str, Any]:
    """Normalise the args of controller actions once ``args:`` is merged in; check them."""
    if "_raw_params" in args and module in COMMAND_MODULES:
        args["cmd"] = args.pop("_raw_params")
    if "_raw_params" in args and module in FILE_ACTIONS and "file" not in args:
        args["file"] = args.pop("_raw_params")
    if module in ("include_tasks", "import_tasks"):
        for key in args:
            if key == "apply" and module == "include_tasks":
                parse_apply(args["apply"], module, loc)  # kept as written: rendered when it runs
                continue
            if key == "apply":
                raise InputError(f"{module}: 'apply' is an option of include_tasks only (as in Ansible); set the "
                                 "keywords on import_tasks itself", loc)
            if key != "file":
                raise InputError(f"{module} has no option {key!r} (only 'file')", loc)
        if args.get("file") is None:
            raise InputError(f"{module} needs a file name", loc)
        args["file"] = as_str(args["file"], f"{module} file", loc)
    elif module == "include_role":
        parse_role_options(args, loc, module, static=False)
    elif module == "meta":
        action = args.get("_raw_params")
        if set(args) != {"_raw_params"} or not isinstance(action, str):
            raise InputError("meta takes one action, e.g. meta: flush_handlers", loc)
        if action not in META_ACTIONS:
            raise InputError(f"unknown meta action {action!r}{suggest(action, META_ACTIONS)}",
                             loc)
    return args
