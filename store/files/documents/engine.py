"""Templates a user can change, rendered so that a template cannot run code or hang the program.

A template is NAME.LANG (statement.zh, confirmation.en ...): the user's own version stored in the ledger
(store.write.templates), else the default shipped in store/files/documents/templates/. Rendering goes through
Jinja2's ImmutableSandboxedEnvironment (no attribute that reaches Python internals, no mutation of what it is
given), with autoescaping, undefined names refused, and limits: a render stops after RENDER_SECONDS or
MAX_OUTPUT characters, and a multiplication or power that would make a huge value is refused. Every failure is a
TemplateError naming the template and its line; the caller then sends and writes nothing.
"""
from __future__ import annotations

import ctypes
import threading
import time
import traceback
from importlib import resources

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from store.errors import DulyError, Said
from store.i18n import N_

DOCUMENTS = ("statement", "confirmation", "dunning", "payment_request")
LANGS = ("zh", "en")
NAMES = tuple(f"{doc}.{lang}" for doc in DOCUMENTS for lang in LANGS)
DESCRIPTIONS = {
    "statement": ("对账单", "statement of account"),
    "confirmation": ("往来款项询证函", "balance confirmation letter with reply slip"),
    "dunning": ("催款函", "dunning letter (one template, wording per level)"),
    "payment_request": ("请款单", "payment request"),
}
RENDER_SECONDS = 5.0
MAX_OUTPUT = 20_000_000  # characters: a 2,000-line statement is about 0.5 MB
MAX_TEXT = 200_000  # characters of one template's source
_MAX_PRODUCT = 1_000_000  # the longest string or list `*` may make, the largest number `**` may make


class TemplateError(DulyError):
    """A template that cannot be used: its message names the template and the line."""


def check_name(name: str) -> str:
    if name not in NAMES:
        raise TemplateError(N_("unknown template {name}; templates: {names}"), name=repr(name), names=", ".join(NAMES))
    return name


def default_source(name: str) -> str:
    return resources.files("store.files.documents.templates").joinpath(f"{check_name(name)}.html").read_text(
        encoding="utf-8")


class _Timeout(BaseException):
    """Raised inside a render that ran too long (BaseException: a template's own error handling cannot catch
    it, and Jinja has none)."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("a power that large is refused")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > _MAX_PRODUCT:
                    raise SecurityError("repeating text that many times is refused")
        return super().call_binop(context, operator, left, right)


def _environment(sources: dict[str, str]) -> _Sandbox:
    def load(name):
        return (sources[name], f"{name}", lambda: True) if name in sources else None

    env = _Sandbox(loader=jinja2.FunctionLoader(load), autoescape=True, undefined=jinja2.StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def compile_check(name: str, source: str) -> None:
    """Refuse a template that does not parse (one line: the template, the line, what is wrong)."""
    if len(source) > MAX_TEXT:
        raise TemplateError(N_("template {name}: {count} characters is too long (at most {most})"), name=name,
                            count=f"{len(source):,}", most=f"{MAX_TEXT:,}")
    try:
        _environment({name: source}).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(N_("template {name}, line {line}: {reason}"), name=name, line=exc.lineno,
                            reason=exc.message) from None


def _line_of(exc: BaseException, name: str, template=None) -> str:
    """', line N' of the template where exc was raised. Jinja rewrites the line numbers of an Exception to the
    template's; a _Timeout (a BaseException) keeps those of the compiled code, mapped back here."""
    found = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    if not found:
        return ""
    line = template.get_corresponding_lineno(found[-1]) if template is not None else found[-1]
    return Said(N_(", line {line}"), line=line)


def render(name: str, source: str, context: dict, *, seconds: float | None = None,
           max_output: int | None = None) -> str:
    """The template's text for this context, or TemplateError (nothing else escapes)."""
    seconds = RENDER_SECONDS if seconds is None else seconds
    max_output = MAX_OUTPUT if max_output is None else max_output
    compile_check(name, source)
    template = _environment({name: source}).get_template(name)
    outcome: dict = {}
    deadline = time.monotonic() + seconds

    def work():
        try:
            parts, size = [], 0
            for chunk in template.generate(**context):
                parts.append(chunk)
                size += len(chunk)
                if size > max_output:
                    raise TemplateError(N_("template {name}: the document grew past {most} characters (a loop that "
                                           "does not end?); refused"), name=name, most=f"{max_output:,}")
                if time.monotonic() > deadline:
                    raise _Timeout()
            outcome["text"] = "".join(parts)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one line below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=f"template {name}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        # A loop that prints nothing never returns to the check above: interrupt the thread between two steps
        # of Python code (a template is compiled to Python, so it always reaches one).
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_Timeout))
        worker.join(seconds)
        if worker.is_alive():  # pragma: no cover - a single C call longer than the limit
            raise TemplateError(N_("template {name}: still rendering after {seconds} s; refused"), name=name,
                                seconds=f"{2 * seconds:.0f}")
    exc = outcome.get("error")
    if exc is None:
        return outcome["text"]
    where = _line_of(exc, name, template if isinstance(exc, _Timeout) else None)
    if isinstance(exc, TemplateError):
        raise exc
    if isinstance(exc, _Timeout):
        raise TemplateError(N_("template {name}{where}: rendering took longer than {seconds} s (a loop that does "
                               "not end?); refused"), name=name, where=where, seconds=f"{seconds:g}") from None
    if isinstance(exc, SecurityError):
        raise TemplateError(N_("template {name}{where}: refused: {reason} (a template may only use the document's "
                               "fields)"), name=name, where=where, reason=exc if isinstance(exc, DulyError) else str(exc)) from None
    if isinstance(exc, jinja2.UndefinedError):
        raise TemplateError(N_("template {name}{where}: {reason}"), name=name, where=where, reason=exc.message) from None
    if isinstance(exc, RecursionError):
        raise TemplateError(N_("template {name}{where}: a macro calls itself without end; refused"), name=name,
                            where=where) from None
    if isinstance(exc, (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
                        AttributeError)):
        raise TemplateError(N_("template {name}{where}: {reason}"), name=name, where=where,
                            reason=f"{type(exc).__name__}: {exc}") from None
    raise exc


def safe(text: str) -> Markup:
    """Text the document itself made (the stylesheet): not escaped again."""
    return Markup(text)
