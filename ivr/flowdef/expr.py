"""The flow expression language: a small, safe subset of Python expressions, and `${...}` interpolation.

Expressions are parsed with `ast` and evaluated by walking the tree here, never with eval(). Allowed:
names and dotted names (`customer.vip_level`), subscripts (`data["key"]`), literals, lists/tuples,
comparisons (== != < <= > >= in, not in, is, is not), and/or/not, `a if c else b`, + - * / // %, and calls to
registered function names only (positional arguments). Names starting with `_` and attribute access to
anything starting with `_` are refused at compile time, so no route to dunder attributes exists.

Forgiving on purpose, because callers hang up and databases have gaps: an unset name is None, an
attribute of None is None, and ordering comparisons involving None are False.
"""
from __future__ import annotations

import functools

import ast
import operator
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

# Function names flows may call; runtime_functions() supplies their implementations.
KNOWN_FUNCTIONS = frozenset({"business_hours", "is_holiday", "len", "str", "int"})
CALENDAR_FUNCTIONS = frozenset({"business_hours", "is_holiday"})
MAX_EXPR_LENGTH = 1000
MAX_SEQUENCE = 10_000
MAX_DEPTH = 60  # nesting of the parsed tree; the evaluator recurses, so deep trees are refused up front


class ExprError(ValueError):
    """A bad expression. `column` is the 0-based character offset inside the expression text, when known."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_ORDERING = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_EQUALITY = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.BinOp,
    ast.Compare, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple,
    ast.Call, ast.IfExp, ast.In, ast.NotIn, *_BINOPS, *_ORDERING, *_EQUALITY,
)


def _char_column(text: str, byte_offset: int | None) -> int | None:
    """ast columns are UTF-8 byte offsets; flows contain Chinese text, so convert to characters."""
    if byte_offset is None:
        return None
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


@dataclass(frozen=True)
class Expr:
    text: str
    tree: ast.Expression
    names: frozenset[str]  # top-level variable names used
    calls: tuple[tuple[str, tuple[Any, ...], int], ...]  # (function, literal args (None if not literal), column)

    def evaluate(self, env: Mapping[str, Any], functions: Mapping[str, Callable] | None = None) -> Any:
        try:
            return _Evaluator(self.text, env, functions or {}).visit(self.tree.body)
        except RecursionError:  # only reachable through deeply nested values handed in by the caller
            raise ExprError(f"expression too deeply nested to evaluate: {self.text!r}") from None


def compile_expr(text: str, functions: Iterable[str] | None = None) -> Expr:
    """Parse and check an expression. `functions`: the callable names allowed (default KNOWN_FUNCTIONS)."""
    if not isinstance(text, str):
        raise ExprError(f"expression must be text, not {type(text).__name__}", 0)
    if len(text) > MAX_EXPR_LENGTH:
        raise ExprError(f"expression longer than {MAX_EXPR_LENGTH} characters", MAX_EXPR_LENGTH)
    flat = text.replace("\n", " ")
    source = flat.lstrip()
    shift = len(flat) - len(source)  # ast refuses leading blanks; columns are reported against `text`
    if not source.strip():
        raise ExprError("empty expression", 0)
    try:
        with warnings.catch_warnings():  # "1if x" style warnings are noise here: the text is checked below
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except (RecursionError, MemoryError):
        raise ExprError("expression nested too deeply", 0) from None
    except SyntaxError as exc:
        if not exc.offset:  # Python gives offset 0 when the text simply stops too early ("a ==")
            raise ExprError("incomplete expression: something is missing at the end", len(text.rstrip())) from None
        column = exc.offset - 1 + shift
        raise ExprError(f"invalid expression: {exc.msg}", min(column, len(text))) from None
    allowed = KNOWN_FUNCTIONS if functions is None else frozenset(functions)
    names: set[str] = set()
    calls: list[tuple[str, tuple[Any, ...], int]] = []
    stack: list[tuple[ast.AST, int, int]] = [(tree, shift, 0)]
    while stack:
        node, parent_col, depth = stack.pop()
        col = _char_column(source, getattr(node, "col_offset", None))
        col = parent_col if col is None else col + shift  # operators carry no position: use their expression's
        if depth > MAX_DEPTH:
            raise ExprError(f"expression nested more than {MAX_DEPTH} levels deep", col)
        stack.extend((child, col, depth + 1) for child in reversed(list(ast.iter_child_nodes(node))))
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{_describe(node)} is not allowed in flow expressions", col)
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExprError(f"name {node.id!r} is not allowed (names may not start with '_')", col)
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            end = _char_column(source, node.end_col_offset)
            col = col if end is None else end - len(node.attr) + shift
            raise ExprError(f"attribute {node.attr!r} is not allowed (attributes may not start with '_')", col)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (str, int, float, bool, type(None))):
            raise ExprError(f"constant of type {type(node.value).__name__} is not allowed", col)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExprError("only registered functions can be called (e.g. business_hours())", col)
            if node.func.id not in allowed:
                raise ExprError(f"unknown function {node.func.id!r} (known: {', '.join(sorted(allowed))})", col)
            if node.keywords:
                raise ExprError(f"{node.func.id}() takes positional arguments only", col)
            literal = tuple(a.value if isinstance(a, ast.Constant) else None for a in node.args)
            calls.append((node.func.id, literal, col or 0))
    # function names are not variables
    names -= {c[0] for c in calls}
    return Expr(text, tree, frozenset(names), tuple(calls))


def _describe(node: ast.AST) -> str:
    kinds = {ast.Lambda: "lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator", ast.JoinedStr: "an f-string",
             ast.NamedExpr: "assignment (:=)", ast.Pow: "** (power)", ast.Starred: "* unpacking",
             ast.Dict: "a dict literal", ast.Set: "a set literal", ast.Slice: "slicing", ast.Await: "await"}
    for kind, label in kinds.items():
        if isinstance(node, kind):
            return label
    return type(node).__name__


class _Evaluator:
    def __init__(self, text: str, env: Mapping[str, Any], functions: Mapping[str, Callable]):
        self.text, self.env, self.functions = text, env, functions

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(f"{message} (in {self.text!r})", _char_column(self.text, getattr(node, "col_offset", None)))

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:  # compile_expr refuses these; a hand-built tree must not slip through
            raise self.fail(node, f"{type(node).__name__} is not allowed")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id.startswith("_"):
            raise self.fail(node, f"name {node.id!r} is not allowed")
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        return self.env.get(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise self.fail(node, f"attribute {node.attr!r} is not allowed")
        base = self.visit(node.value)
        if base is None:
            return None
        if isinstance(base, Mapping):
            return base.get(node.attr)
        if isinstance(base, (str, int, float, bool, list, tuple, bytes)):
            raise self.fail(node, f"{type(base).__name__} has no field {node.attr!r}")
        value = getattr(base, node.attr, None)
        if callable(value):
            raise self.fail(node, f"{node.attr!r} is not a value")
        return value

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        base = self.visit(node.value)
        key = self.visit(node.slice)
        if base is None:
            return None
        if isinstance(base, Mapping):
            return base.get(key)
        if isinstance(base, (list, tuple, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise self.fail(node, "index must be an integer")
            return base[key] if -len(base) <= key < len(base) else None
        raise self.fail(node, f"{type(base).__name__} cannot be indexed")

    def visit_List(self, node: ast.List) -> list:
        return [self.visit(e) for e in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.visit(e) for e in node.elts)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.visit(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, (int, float)) and type(value).__name__ != "Decimal":
            raise self.fail(node, f"cannot negate {type(value).__name__}")
        return -value if isinstance(node.op, ast.USub) else +value

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Mult):
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * max(count, 0) > MAX_SEQUENCE:
                        raise self.fail(node, f"result longer than {MAX_SEQUENCE}")
        try:
            return _BINOPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise self.fail(node, "division by zero") from None
        except TypeError:
            raise self.fail(node, f"cannot combine {type(left).__name__} and {type(right).__name__}") from None

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self.visit(comparator)
            if type(op) in _ORDERING:
                if left is None or right is None:
                    return False
                try:
                    ok = _ORDERING[type(op)](left, right)
                except TypeError:
                    raise self.fail(node, f"cannot compare {type(left).__name__} with {type(right).__name__}") from None
            elif type(op) in _EQUALITY:
                ok = _EQUALITY[type(op)](left, right)
            else:
                if right is None:
                    ok = False
                else:
                    try:
                        ok = left in right
                    except TypeError:
                        raise self.fail(node, f"cannot test membership in {type(right).__name__}") from None
                if isinstance(op, ast.NotIn):
                    ok = not ok
            if not ok:
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(node, "only registered functions can be called")
        function = self.functions.get(node.func.id)
        if function is None:
            raise self.fail(node, f"function {node.func.id!r} is not available")
        args = [self.visit(a) for a in node.args]
        try:
            return function(*args)
        except ExprError:
            raise
        except (TypeError, ValueError, KeyError, LookupError) as exc:
            raise self.fail(node, f"{node.func.id}() failed: {exc}") from None


# --- ${...} interpolation -------------------------------------------------------------------------

_TEMPLATE_START = re.compile(r"\$\$|\$\{")


def parse_template(text: str, functions: Iterable[str] | None = None) -> list[str | tuple[Expr, int]]:
    """Split `text` into literal parts and (Expr, column of the expression) parts; `$${` is a literal `${`."""
    parts: list[str | tuple[Expr, int]] = []
    i = 0
    literal = []
    while True:
        m = _TEMPLATE_START.search(text, i)
        if not m:
            literal.append(text[i:])
            break
        literal.append(text[i:m.start()])
        if m.group() == "$$":
            literal.append("$")
            i = m.end()
            continue
        end = text.find("}", m.end())
        if end < 0:
            raise ExprError("'${' without a closing '}'", m.start())
        inner = text[m.end():end]
        try:
            expr = compile_expr(inner, functions)
        except ExprError as exc:
            raise ExprError(exc.message, m.end() + (exc.column or 0)) from None
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append((expr, m.end()))
        i = end + 1
    if "".join(literal):
        parts.append("".join(literal))
    return parts


@functools.lru_cache(maxsize=4096)
def _cached_expr(text: str, names: frozenset[str] | None) -> Expr:
    return compile_expr(text, names)


@functools.lru_cache(maxsize=4096)
def _cached_template(text: str, names: frozenset[str] | None) -> tuple[str | tuple[Expr, int], ...]:
    return tuple(parse_template(text, names))


def _allowed(functions: Mapping[str, Callable] | None) -> frozenset[str] | None:
    return None if functions is None else frozenset(functions) | KNOWN_FUNCTIONS


def interpolate(text: str, env: Mapping[str, Any], functions: Mapping[str, Callable] | None = None) -> str:
    """Replace each `${expr}` with its value (None → empty text). Parsed once per text, then cached:
    flows evaluate the same few expressions on every call."""
    out = []
    for part in _cached_template(text, _allowed(functions)):
        if isinstance(part, str):
            out.append(part)
        else:
            value = part[0].evaluate(env, functions)
            out.append("" if value is None else str(value))
    return "".join(out)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def evaluate_value(value: Any, env: Mapping[str, Any], functions: Mapping[str, Callable] | None = None) -> Any:
    """A param that holds an expression: text with `${` is interpolated, other text is an expression,
    anything else (numbers, booleans, lists from YAML) is taken as it is."""
    if is_template(value):
        return interpolate(value, env, functions)
    if isinstance(value, str):
        return _cached_expr(value, _allowed(functions)).evaluate(env, functions)
    return value


class OpeningHours(Protocol):
    """What business_hours/is_holiday ask of a calendar (calendars.Calendar is the one the service loads)."""

    def is_open(self, at: datetime) -> bool: ...

    def is_holiday(self, at: datetime, name: str | None = None) -> bool: ...


class _AlwaysOpen:
    """The `default` calendar when none are loaded: open 24 h, no holidays."""

    def is_open(self, at: datetime) -> bool:
        return True

    def is_holiday(self, at: datetime, name: str | None = None) -> bool:
        return False


def runtime_functions(calendars: Mapping[str, OpeningHours] | None = None,
                      now: Callable[[], datetime] | None = None) -> dict[str, Callable]:
    """The functions flows may call, bound to the calendars (from calendars.load_calendars) and a clock.
    Without calendars the `default` one is open 24 h with no holidays, as the hotline is by default."""
    clock = now or (lambda: datetime.now(timezone.utc))
    if calendars is None:
        calendars = {"default": _AlwaysOpen()}

    def calendar(name: str) -> OpeningHours:
        try:
            return calendars[name]
        except KeyError:
            raise ExprError(f"unknown calendar {name!r} (known: {', '.join(sorted(calendars)) or 'none'})") from None

    def business_hours(calendar_name: str = "default") -> bool:
        return calendar(calendar_name).is_open(clock())

    def is_holiday(calendar_name: str = "default", holiday: str | None = None) -> bool:
        return calendar(calendar_name).is_holiday(clock(), holiday)

    def to_int(value: Any) -> int:
        return int(value)

    return {"business_hours": business_hours, "is_holiday": is_holiday, "len": len, "str": str, "int": to_int}
