"""The one Jinja2 sandbox that prompt templates and custom export formats render in, with limits that
keep a template (a shared one, a custom format) from hanging the app or filling its memory.

Jinja's own sandbox blocks Python internals, but `{{ 9 ** (9 ** 8) }}`, `{{ 'x' * 10**9 }}`,
`{{ lipsum(n=10**6) }}` or loops in loops still run for good. Here:

* `*`, `**`, `%` and `+` are intercepted and refused before they build a number of more than
  DIGIT_LIMIT digits or a text or list longer than SIZE_LIMIT; `~`, filters and str methods that
  multiply their input are estimated first, and every result is measured;
* an intercepted operator or a wrapped filter is never folded at compile time, so compiling runs no
  template arithmetic at all (Jinja folds constant expressions in its code generator);
* each render has a budget: STEP_LIMIT loop iterations and calls, SIZE_LIMIT characters written
  (literal text in loops counts too), and a time limit, checked as it goes;
* globals are those a template needs: `range` (bounded), `dict`, `namespace` (its values measured),
  `cycler` and `joiner`; `lipsum` is refused.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from jinja2 import StrictUndefined, Template, nodes
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace, pass_context
from jinja2.visitor import NodeTransformer

from forge_tui.core import template_sizes
from forge_tui.core.template_sizes import SIZE_LIMIT, LimitExceeded, sized
from forge_tui.i18n import _

STEP_LIMIT = 100_000  # loop iterations and calls in one render
TIME_LIMIT = 2.0  # seconds one render may take, unless the caller sets its own (see `time_limit`)


class RenderStopped(Exception):
    """The caller asked the render to stop (a newer preview replaced it, the app is closing)."""


@dataclass
class _Deadline:
    at: float
    seconds: float
    stop: Callable[[], bool] | None = None


@dataclass
class _Budget:
    deadline: _Deadline
    steps: int = 0
    written: int = 0
    # The clock is read every few steps: a step is far cheaper than reading it.
    _until_clock: int = field(default=0, repr=False)

    def step(self) -> None:
        self.steps += 1
        if self.steps > STEP_LIMIT:
            raise LimitExceeded(
                _("the template passed the limit of {limit} loop steps and calls").format(limit=f"{STEP_LIMIT:,}")
            )
        self._until_clock -= 1
        if self._until_clock <= 0:
            self._until_clock = 32
            self.check_time()

    def check_time(self) -> None:
        deadline = self.deadline
        if deadline.stop is not None and deadline.stop():
            raise RenderStopped(_("the render was stopped"))
        if time.monotonic() > deadline.at:
            raise LimitExceeded(
                _("the template ran past the time limit of {seconds} s").format(seconds=f"{deadline.seconds:g}")
            )

    def write(self, characters: int) -> None:
        self.written += characters
        if self.written > SIZE_LIMIT:
            raise LimitExceeded(
                _("the template wrote more than the limit of {limit} characters").format(limit=f"{SIZE_LIMIT:,}")
            )


_DEADLINE: ContextVar[_Deadline | None] = ContextVar("template_deadline", default=None)
_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    # Outside render() (Jinja's own render, a test) there is no budget: sizes are still checked.
    return budget if budget is not None else _Budget(_Deadline(math.inf, math.inf))


@contextmanager
def time_limit(seconds: float, stop: Callable[[], bool] | None = None) -> Iterator[None]:
    """Every render inside shares this deadline, and stops early once `stop()` is true. Without it
    each render has TIME_LIMIT seconds of its own."""
    token = _DEADLINE.set(_Deadline(time.monotonic() + seconds, seconds, stop))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def render(template: Template, values: dict[str, Any]) -> str:
    """Renders within the limits; raises LimitExceeded (or RenderStopped) when it passes one."""
    deadline = _DEADLINE.get() or _Deadline(time.monotonic() + TIME_LIMIT, TIME_LIMIT)
    budget = _Budget(deadline)
    token = _BUDGET.set(budget)
    try:
        budget.check_time()
        parts: list[str] = []
        length = 0
        for part in template.generate(**values):
            length += len(part)
            if length > SIZE_LIMIT:
                raise LimitExceeded(
                    _("the template wrote more than the limit of {limit} characters").format(limit=f"{SIZE_LIMIT:,}")
                )
            parts.append(part)
        return "".join(parts)
    finally:
        _BUDGET.reset(token)


def _no_lipsum(*args: Any, **kwargs: Any) -> str:
    raise LimitExceeded(_("lipsum() is not available in templates"))


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > STEP_LIMIT:
        raise LimitExceeded(_("range() is limited to {limit} numbers").format(limit=f"{STEP_LIMIT:,}"))
    return numbers


class _Namespace(Namespace):
    """`namespace()` whose attributes are measured: a loop cannot double one until it fills memory."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, sized(value))


def _written(value: Any) -> str:
    """Jinja's `finalize`: every `{{ … }}` output passes here, inside macros and blocks too."""
    text = str(value)
    _budget().write(len(text))
    return text


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose result is measured, and estimated first when it can multiply its input.
    `pass_context` also keeps Jinja from running it at compile time on constant arguments."""
    pass_arg = getattr(func, "jinja_pass_arg", None)
    first: Callable[[Context], Any] | None = None
    if pass_arg is not None:
        first = {
            "context": lambda context: context,
            "eval_context": lambda context: context.eval_ctx,
            "environment": lambda context: context.environment,
        }[pass_arg.name]
    multiplies = name in template_sizes.MULTIPLYING_FILTERS

    @pass_context
    @functools.wraps(func)
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        _budget().step()
        if multiplies:
            template_sizes.refuse_over(template_sizes.filter_size(name, value, args, kwargs))
        result = func(value, *args, **kwargs) if first is None else func(first(context), value, *args, **kwargs)
        return sized(result)

    return guarded


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_written)
        self.globals = {
            "range": _range,
            "dict": dict,
            "namespace": _Namespace,
            "cycler": Cycler,
            "joiner": Joiner,
            "lipsum": _no_lipsum,
        }
        self.filters = {name: _guarded_filter(name, func) for name, func in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        template_sizes.binop(operator, left, right)
        return sized(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _budget().step()
        for value in (*args, *kwargs.values()):  # a macro calling itself with a doubled text
            sized(value)
        if isinstance(obj, LoopContext) and args:  # `loop(children)` in a recursive for loop
            args = (self.guarded_loop(args[0]), *args[1:])
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            template_sizes.refuse_over(template_sizes.method_size(getattr(obj, "__name__", ""), owner, args, kwargs))
        return sized(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt: str = value.__self__
        format_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if format_map and args else kwargs
            template_sizes.format_call(fmt, () if format_map else args, mapping)
            return str(sized(wrapped(*args, **kwargs)))

        return checked

    def joined(self, *parts: Any) -> str:
        """What `a ~ b` compiles to: the parts' text, measured before it is joined."""
        texts = [str(part) for part in parts]
        template_sizes.refuse_over(sum(map(len, texts)))
        return "".join(texts)

    def guarded_loop(self, iterable: Any, literal: int = 0) -> Iterator[Any]:
        """What a for loop iterates: each item is a step, and writes the loop body's literal text."""
        budget = _budget()
        for item in iterable:
            budget.step()
            if literal:
                budget.write(literal)
            yield item


ENVIRONMENT = SandboxEnvironment()


class _Guards(NodeTransformer):
    """Rewrites a parsed template so that every `{% for %}` iterates through `guarded_loop` (which
    counts its steps) and every `~` joins through `joined` (which measures first)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        literal = sum(len(data.data) for body in node.body for data in body.find_all(nodes.TemplateData))
        self.generic_visit(node)
        node.iter = self._call("guarded_loop", [cast(nodes.Expr, node.iter), nodes.Const(literal)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self._call("joined", list(node.nodes), node.lineno)

    @staticmethod
    def _call(attribute: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        call = nodes.Call(nodes.EnvironmentAttribute(attribute), args, [], None, None)
        call.set_lineno(lineno).set_environment(ENVIRONMENT)
        return call


def compile_tree(tree: nodes.Template) -> Template:
    """A parsed template, compiled with its loops guarded. Compiling evaluates nothing unbounded."""
    guarded = _Guards().visit(tree)
    assert isinstance(guarded, nodes.Template)
    return ENVIRONMENT.from_string(guarded)
