"""Caller ID text as Asterisk parses it (callerid.c ast_callerid_parse()): AMI Originate and AGI SET CALLERID."""
from __future__ import annotations

import re


def parse_callerid(text: str) -> tuple[str, str]:
    """ast_callerid_parse(): '"Name" <num>' / 'Name <num>' / 'num' / 'Name' -> (name, num)."""
    text = text.strip()
    if not text:
        return "", ""
    if "<" in text:
        head, _, rest = text.rpartition("<")
        num = rest.split(">", 1)[0].strip()
        name = head.strip().strip('"').strip()
        return name, num
    shrunk = re.sub(r"[\s()\-.]", "", text)
    if re.fullmatch(r"\+?[0-9*#]+", shrunk):
        return "", shrunk
    return text.strip('"').strip(), ""
