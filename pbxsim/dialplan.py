"""extensions.conf reader: the subset of Asterisk's dialplan syntax a real site uses.

Supported syntax (anything else is a DialplanError naming ``file:line``):

- ``[context]`` sections (a template suffix like ``[ctx](+)`` is accepted and ignored);
  ``[general]`` settings are read and ignored, ``[globals]`` holds ``NAME=value`` lines.
- ``exten => <ext>,<priority>,<App>(<args>)`` where priority is a number, ``n``,
  ``n(label)``, ``<number>(label)`` or ``hint`` (hints are stored, never executed);
  ``same => n,...`` continues the previous extension. ``App`` without parentheses
  and the old ``App,args`` form are accepted.
- Extension patterns start with ``_``: ``X`` 0-9, ``Z`` 1-9, ``N`` 2-9, ``[1-5a]`` a set,
  ``.`` one or more of anything, ``!`` zero or more; exact names match before
  patterns, more specific patterns before less specific ones.
- ``include => other-context`` (searched after the context's own extensions),
  ``#include "file.conf"`` (relative to the including file).
- Comments start with ``;`` (``\\;`` is a literal semicolon); ``;--`` ... ``--;`` block comments.
- Special extensions: ``i`` (invalid extension), ``t`` (WaitExten timeout), ``h`` (runs after the
  channel hangs up, with the channel already dead).
- ``${VAR}``, ``${VAR:offset:len}``, ``${FUNC(args)}`` and ``$[expr]`` are substituted when a
  step runs (see pbxsim.channel.substitute), exactly as Asterisk does at execution time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class DialplanError(ValueError):
    """A broken extensions.conf: message is ``file:line: reason``."""

    def __init__(self, file: str | Path, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = str(file)
        self.line = line
        self.reason = reason


@dataclass
class Step:
    priority: int
    app: str
    data: str
    label: str | None
    file: str
    line: int


@dataclass
class Extension:
    name: str
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    hint: str | None = None

    @property
    def is_pattern(self) -> bool:
        return self.name.startswith("_")


@dataclass
class Context:
    name: str
    extensions: dict[str, Extension] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    body = pattern[1:]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c in "xX":
            out.append("[0-9]")
        elif c in "zZ":
            out.append("[1-9]")
        elif c in "nN":
            out.append("[2-9]")
        elif c == ".":
            out.append(".+")
        elif c == "!":
            out.append(".*")
        elif c == "[":
            j = body.find("]", i)
            if j < 0:
                raise ValueError(f"unclosed [ in pattern {pattern}")
            out.append("[" + re.sub(r"([\\^])", r"\\\1", body[i + 1:j]) + "]")
            i = j
        elif c == "-":
            pass  # dashes are ignored in patterns, as in Asterisk
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _specificity(pattern: str) -> tuple:
    """Sort key: more specific patterns first (fewer possibilities per position)."""
    sizes = []
    body = pattern[1:]
    i = 0
    while i < len(body):
        c = body[i]
        if c in "xX":
            sizes.append(10)
        elif c in "zZ":
            sizes.append(9)
        elif c in "nN":
            sizes.append(8)
        elif c in ".!":
            sizes.append(10_000 if c == "." else 20_000)
        elif c == "[":
            j = body.find("]", i)
            inner = body[i + 1:j]
            n = 0
            k = 0
            while k < len(inner):
                if k + 2 < len(inner) and inner[k + 1] == "-":
                    n += abs(ord(inner[k + 2]) - ord(inner[k])) + 1
                    k += 3
                else:
                    n += 1
                    k += 1
            sizes.append(n)
            i = j
        elif c != "-":
            sizes.append(1)
        i += 1
    return tuple(sizes)


class Dialplan:
    def __init__(self) -> None:
        self.contexts: dict[str, Context] = {}
        self.globals: dict[str, str] = {}
        self.general: dict[str, str] = {}
        self._regex_cache: dict[str, re.Pattern[str]] = {}

    # -- lookup -------------------------------------------------------------
    def match(self, context: str, exten: str, _seen: set[str] | None = None) -> Extension | None:
        ctx = self.contexts.get(context)
        if ctx is None:
            return None
        if exten in ctx.extensions and not exten.startswith("_"):
            return ctx.extensions[exten]
        patterns = [e for e in ctx.extensions.values() if e.is_pattern]
        patterns.sort(key=lambda e: _specificity(e.name))
        for ext in patterns:
            rx = self._regex_cache.get(ext.name)
            if rx is None:
                rx = self._regex_cache[ext.name] = pattern_regex(ext.name)
            if rx.match(exten):
                return ext
        seen = _seen or set()
        seen.add(context)
        for inc in ctx.includes:
            if inc in seen:
                continue
            found = self.match(inc, exten, seen)
            if found is not None:
                return found
        return None

    def find(self, context: str, exten: str, priority: int) -> Step | None:
        ext = self.match(context, exten)
        return None if ext is None else ext.steps.get(priority)

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        return self.find(context, exten, priority) is not None

    def label_priority(self, context: str, exten: str, label: str) -> int | None:
        ext = self.match(context, exten)
        return None if ext is None else ext.labels.get(label)

    # -- loading ------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "Dialplan":
        dp = cls()
        dp._parse_file(Path(path), depth=0)
        return dp

    @classmethod
    def from_text(cls, text: str, filename: str = "extensions.conf") -> "Dialplan":
        dp = cls()
        dp._parse_lines(text.splitlines(), filename, Path("."), depth=0)
        return dp

    def _parse_file(self, path: Path, depth: int, state: dict | None = None) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DialplanError(path, 0, f"cannot read file: {exc.strerror or exc}") from None
        self._parse_lines(text.splitlines(), str(path), path.parent, depth, state)

    def _parse_lines(self, lines: list[str], filename: str, base: Path, depth: int,
                     state: dict | None = None) -> None:
        if depth > 10:
            raise DialplanError(filename, 0, "#include nested too deeply")
        st = state if state is not None else {"section": None, "ext": None, "prio": 0}
        in_block = False
        for lineno, raw in enumerate(lines, start=1):
            line = raw
            if in_block:
                end = line.find("--;")
                if end < 0:
                    continue
                line = line[end + 3:]
                in_block = False
            start = line.find(";--")
            if start >= 0 and (start == 0 or line[start - 1] != "\\"):
                end = line.find("--;", start + 3)
                if end < 0:
                    in_block = True
                    line = line[:start]
                else:
                    line = line[:start] + line[end + 3:]
            line = _strip_comment(line).strip()
            if not line:
                continue
            if line.startswith("#include"):
                target = line[len("#include"):].strip().strip('"').strip("<>").strip()
                if not target:
                    raise DialplanError(filename, lineno, "#include without a file name")
                self._parse_file(base / target, depth + 1, st)
                continue
            if line.startswith("#"):
                raise DialplanError(filename, lineno, f"unsupported directive {line.split()[0]}")
            if line.startswith("["):
                m = re.fullmatch(r"\[([^\]\s]+)\]\s*(\([^)]*\))?", line)
                if not m:
                    raise DialplanError(filename, lineno, f"malformed context header {line!r}")
                name = m.group(1)
                st["section"] = name
                st["ext"] = None
                if name not in ("general", "globals"):
                    self.contexts.setdefault(name, Context(name))
                continue
            section = st["section"]
            if section is None:
                raise DialplanError(filename, lineno, "line outside of any [context]")
            if section in ("general", "globals"):
                m = re.fullmatch(r"([^=]+?)\s*=>?\s*(.*)", line)
                if not m:
                    raise DialplanError(filename, lineno, f"expected NAME=value in [{section}]")
                target = self.globals if section == "globals" else self.general
                target[m.group(1).strip()] = m.group(2).strip()
                continue
            m = re.fullmatch(r"(exten|same|include|switch|ignorepat)\s*=>?\s*(.*)", line, re.I)
            if not m:
                raise DialplanError(filename, lineno, f"expected 'exten =>', 'same =>' or 'include =>', got {line!r}")
            kind, rest = m.group(1).lower(), m.group(2).strip()
            ctx = self.contexts[section]
            if kind == "include":
                if not rest:
                    raise DialplanError(filename, lineno, "include => needs a context name")
                ctx.includes.append(rest.split(",")[0].strip())
                continue
            if kind in ("switch", "ignorepat"):
                continue
            if kind == "exten":
                parts = rest.split(",", 2)
                if len(parts) < 2 or not parts[0].strip():
                    raise DialplanError(filename, lineno, "exten => needs <extension>,<priority>,<application>")
                ext_name = parts[0].strip()
                if "/" in ext_name:
                    ext_name = ext_name.split("/", 1)[0]
                if ext_name.startswith("_"):
                    try:
                        pattern_regex(ext_name)
                    except ValueError as exc:
                        raise DialplanError(filename, lineno, str(exc)) from None
                prio_text = parts[1].strip()
                app_text = parts[2] if len(parts) > 2 else ""
                ext = ctx.extensions.setdefault(ext_name, Extension(ext_name))
                st["ext"] = ext
            else:
                ext = st["ext"]
                if ext is None or ext.name not in ctx.extensions or ctx.extensions[ext.name] is not ext:
                    raise DialplanError(filename, lineno, "same => without a preceding exten => in this context")
                parts = rest.split(",", 1)
                prio_text = parts[0].strip()
                app_text = parts[1] if len(parts) > 1 else ""
            if prio_text.lower() == "hint":
                ext.hint = app_text.strip()
                continue
            pm = re.fullmatch(r"(n|\d+)(?:\s*\+\s*(\d+))?(?:\(([A-Za-z0-9_-]+)\))?", prio_text)
            if not pm:
                raise DialplanError(filename, lineno, f"bad priority {prio_text!r} (use a number, n or n(label))")
            if pm.group(1) == "n":
                if not ext.steps:
                    raise DialplanError(filename, lineno, f"priority 'n' before priority 1 in extension {ext.name}")
                prio = max(ext.steps) + 1
            else:
                prio = int(pm.group(1))
            if pm.group(2):
                prio += int(pm.group(2))
            label = pm.group(3)
            app, data = _split_app(app_text.strip(), filename, lineno)
            if prio in ext.steps:
                raise DialplanError(filename, lineno, f"duplicate priority {prio} in extension {ext.name}@{section}")
            ext.steps[prio] = Step(prio, app, data, label, filename, lineno)
            if label:
                ext.labels[label] = prio


def _strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if c == ";":
            break
        out.append(c)
        i += 1
    return "".join(out)


def _split_app(text: str, filename: str, lineno: int) -> tuple[str, str]:
    if not text:
        raise DialplanError(filename, lineno, "missing application")
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*", text)
    if not m:
        raise DialplanError(filename, lineno, f"bad application {text!r}")
    app = m.group(1)
    rest = text[m.end():]
    if not rest:
        return app, ""
    if rest.startswith("("):
        depth = 0
        for i, c in enumerate(rest):
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    if rest[i + 1:].strip():
                        raise DialplanError(filename, lineno, f"unexpected text after {app}(...)")
                    return app, rest[1:i]
        raise DialplanError(filename, lineno, f"unbalanced parentheses in {app}(")
    if rest.startswith(","):
        return app, rest[1:]
    raise DialplanError(filename, lineno, f"bad application syntax {text!r}")


def split_args(data: str) -> list[str]:
    """Split application arguments on commas outside quotes, parentheses and ${}/$[]."""
    args: list[str] = []
    cur: list[str] = []
    depth = 0
    quote = False
    i = 0
    while i < len(data):
        c = data[i]
        if c == "\\" and i + 1 < len(data):
            cur.append(data[i + 1])
            i += 2
            continue
        if c == '"':
            quote = not quote
            i += 1
            continue
        if not quote:
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth = max(0, depth - 1)
            elif c == "," and depth == 0:
                args.append("".join(cur))
                cur = []
                i += 1
                continue
        cur.append(c)
        i += 1
    args.append("".join(cur))
    return args
