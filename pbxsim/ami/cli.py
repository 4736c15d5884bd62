"""The few Asterisk CLI commands the ``Command`` action answers (cli.c output formats)."""
from __future__ import annotations

import asyncio
from pathlib import Path

VERSION_LINE = "Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-23 11:44:28 UTC"

_STATE_NAMES = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy",
                8: "Dialing Offhook", 9: "Pre-ring"}


def _ess(n: int) -> str:
    return "" if n == 1 else "s"


def _age(chan) -> int:
    try:
        return max(0, int(asyncio.get_running_loop().time() - chan.created))
    except Exception:
        return 0


def _show_channels(pbx, mode: str) -> str:
    chans = list(pbx.channels())
    if mode == "count":
        out = ""
    elif mode == "concise":
        out = ""
        for c in chans:
            out += "!".join([c.name, c.context, c.exten, str(c.priority), _STATE_NAMES.get(c.state, "Unknown"),
                             c.app or "(None)", c.appdata or "", c.caller_num, c.accountcode, "", "3",
                             str(_age(c)), c.bridge_id or "(None)", c.uniqueid]) + "\n"
        return out
    else:
        fmt = "{:<64.64} {:<32.32} {:<7.7} {:<30.30}\n"
        out = fmt.format("Channel", "Location", "State", "Application(Data)")
        for c in chans:
            loc = f"{c.exten}@{c.context}:{c.priority}" if c.context else "(None)"
            app = f"{c.app}({c.appdata or ''})" if c.app else "(None)"
            out += fmt.format(c.name, loc, _STATE_NAMES.get(c.state, "Unknown"), app)
    calls = len({c.linkedid for c in chans})
    processed = getattr(pbx, "processed_calls", calls)
    processed = processed() if callable(processed) else processed
    out += f"{len(chans)} active channel{_ess(len(chans))}\n"
    out += f"{calls} active call{_ess(calls)}\n"
    out += f"{processed} call{_ess(int(processed))} processed\n"
    return out


def _uptime(pbx) -> str:
    up = int(pbx.uptime_s()) if hasattr(pbx, "uptime_s") else 0
    return f"System uptime: {up} second{_ess(up)}\nLast reload: {up} second{_ess(up)}\n"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _show_dialplan(pbx, context: str | None) -> tuple[bool, str]:
    """pbx.c show_dialplan_helper(): one block per context, then the totals line."""
    dialplan = getattr(pbx, "dialplan", None)
    contexts = getattr(dialplan, "contexts", {}) if dialplan is not None else {}
    names = [context] if context else list(contexts)
    if context and context not in contexts:
        return False, f"There is no existence of '{context}' context\n"
    out, n_ext, n_prio = "", 0, 0
    for name in names:
        ctx = contexts[name]
        out += f"[ Context '{name}' created by 'pbx_config' ]\n"
        for ext_name in sorted(ctx.extensions):
            ext = ctx.extensions[ext_name]
            n_ext += 1
            first = True
            for prio in sorted(ext.steps):
                step = ext.steps[prio]
                n_prio += 1
                where = f"{Path(step.file).name}:{step.line}"
                label = f"[{step.label}] " if step.label else ""
                text = f"{prio}. {label}{step.app}({step.data})"
                head = f"'{ext_name}' =>" if first else ""
                out += f"  {head:<17} {text:<45} [{where}]\n"
                first = False
        for inc in getattr(ctx, "includes", []):
            out += f"  {'Include =>':<17} {repr(inc):<45} [pbx_config]\n"
        out += "\n"
    out += (f"-= {_plural(n_ext, 'extension', 'extensions')} ({_plural(n_prio, 'priority', 'priorities')})"
            f" in {_plural(len(names), 'context', 'contexts')}. =-\n")
    return True, out


def run(pbx, command: str) -> tuple[bool, str]:
    """Return (succeeded, output text) like ast_cli_command()."""
    words = command.split()
    low = [w.lower() for w in words]
    if low == ["core", "show", "version"]:
        return True, VERSION_LINE + "\n"
    if low[:3] == ["core", "show", "channels"] and len(low) <= 4:
        mode = low[3] if len(low) == 4 else ""
        if mode in ("", "concise", "count", "verbose"):
            return True, _show_channels(pbx, mode)
    if low == ["core", "show", "uptime"] or low == ["core", "show", "uptime", "seconds"]:
        return True, _uptime(pbx)
    if low[:2] == ["dialplan", "show"] and len(words) <= 3:
        return _show_dialplan(pbx, words[2] if len(words) == 3 else None)
    best = " ".join(words[:2]) if len(words) > 1 else " ".join(words)
    return False, f"No such command '{command}' (type 'core show help {best}' for other possible commands)\n"
