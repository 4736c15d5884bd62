#!/usr/bin/env python3
"""The classic AGI script: one Python process per call, pyst2 speaking AGI over stdin/stdout.

Asterisk runs it as ``AGI(/path/pyst2_call.py,<prompt>,<timeout_ms>)``; it does what the asyncio
handler in fastagi_server.py does, command for command: ANSWER, STREAM FILE, GET DATA, SET VARIABLE, HANGUP.
"""
import sys

from asterisk.agi import AGI, AGIHangup


def main() -> int:
    prompt = sys.argv[1] if len(sys.argv) > 1 else "bench-prompt"
    timeout_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    agi = AGI()
    try:
        agi.answer()
        agi.stream_file(prompt)
        digits = agi.get_data(prompt, timeout_ms, 4)
        agi.set_variable("BENCH_RESULT", digits or "timeout")
        agi.hangup()
    except AGIHangup:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
