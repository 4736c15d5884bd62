"""Customer records for the screen pop and the IVR's lookup node, with a CSV import.

CSV columns (header row required; only ``number`` is mandatory):
  number, name, vip_level (0-3), key_account, blocked (1/0, true/false, yes/no, 是/否), notes, language
A file with any bad row is refused whole, every problem reported as ``FILE:LINE: reason``; nothing is
written unless the whole file is good (one transaction).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from cti.models import CallRecord, Customer

COLUMNS = ("number", "name", "vip_level", "key_account", "blocked", "notes", "language")
_TRUE = {"1", "true", "yes", "y", "是", "t"}
_FALSE = {"0", "false", "no", "n", "否", "f", ""}
_NUMBER = re.compile(r"^\+?\d{3,20}$")
_BLANK = " \t"
MAX_FIELD_CHARS = 4000            # names and notes; the columns hold (see cti.models.Customer)
MAX_FILE_BYTES = 64 << 20
MAX_PROBLEMS = 100


class CustomerImportError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def normalise_number(raw: str) -> str:
    """Digits only (a leading + kept); Chinese country prefixes removed: +86 / 0086 -> national number."""
    text = re.sub(r"[\s\-().]", "", str(raw or ""))
    if text.startswith("0086"):
        text = text[4:]
    elif text.startswith("+86"):
        text = text[3:]
    return text


def customer_view(c: Customer) -> dict[str, Any]:
    return {"number": c.number, "name": c.name, "vip_level": c.vip_level, "key_account": c.key_account,
            "blocked": c.blocked, "notes": c.notes, "language": c.language or None}


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)


def _flag(value: str, where: str, column: str, problems: list[str]) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.append(f"{where}: {column} must be 1/0, true/false, yes/no or 是/否, got {value!r}")
    return False


def parse_customers_csv(path: Path) -> list[dict[str, Any]]:
    """Read and validate the whole file; raises CustomerImportError listing every problem.

    Values are stored exactly as written (quoted fields keep their line breaks, U+2028 and every other
    character; only spaces and tabs around a value are dropped). A file that cannot be read exactly (an
    unterminated quote, a NUL byte, a value over MAX_FIELD_CHARS) is refused with ``FILE:LINE: reason``."""
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CustomerImportError([f"{path}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit of one import"])
        text = path.read_bytes().decode("utf-8-sig")        # bytes: line breaks inside quotes kept as written
    except FileNotFoundError:
        raise CustomerImportError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise CustomerImportError([f"{path}: is a directory"]) from None
    except UnicodeDecodeError as exc:
        raise CustomerImportError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise CustomerImportError([f"{path}:{line}: NUL byte in the file (not a text CSV file)"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start_line = 1
    try:
        for record in reader:
            records.append((start_line, record))
            start_line = reader.line_num + 1
    except csv.Error as exc:
        reason = str(exc)
        if "end of data" in reason:
            reason = "unterminated quoted field (a \" opened here is never closed)"
        elif "field larger than field limit" in reason:
            reason = f"a value over {csv.field_size_limit()} characters"
        raise CustomerImportError([f"{path}:{start_line}: {reason}"]) from None
    if not records:
        raise CustomerImportError([f"{path}:1: empty file; the header row must name a 'number' column"])
    header = [h.strip(_BLANK) for h in records[0][1]]
    if "number" not in header:
        raise CustomerImportError([f"{path}:1: the header row must name a 'number' column "
                                   f"(columns: {', '.join(COLUMNS)})"])
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise CustomerImportError([f"{path}:1: unknown column(s) {', '.join(unknown)[:200]}; "
                                   f"known: {', '.join(COLUMNS)}"])
    seen: dict[str, int] = {}
    for line, record in records[1:]:
        where = f"{path}:{line}"
        if not record:
            continue                                   # a blank line
        if len(record) > len(header):
            problems.append(f"{where}: more fields than columns in the header")
            continue
        long = next((h for h, v in zip(header, record) if len(v) > MAX_FIELD_CHARS), None)
        if long is not None:
            problems.append(f"{where}: {long} is over {MAX_FIELD_CHARS} characters")
            continue
        row = {h: v.strip(_BLANK) for h, v in zip(header, record)}
        number = normalise_number(row.get("number", ""))
        if not _NUMBER.match(number):
            problems.append(f"{where}: number {row.get('number', '')[:40]!r} is not a phone number")
            continue
        if number in seen:
            problems.append(f"{where}: number {number} already given on line {seen[number]}")
            continue
        seen[number] = line
        vip_text = row.get("vip_level", "") or "0"
        if vip_text not in ("0", "1", "2", "3"):
            problems.append(f"{where}: vip_level must be 0, 1, 2 or 3, got {vip_text[:20]!r}")
            continue
        if len(row.get("name", "")) > 200:
            problems.append(f"{where}: name is over 200 characters")
            continue
        language = row.get("language", "")
        if len(language) > 16:
            problems.append(f"{where}: language {language[:20]!r} is not a language tag")
            continue
        rows.append({"number": number, "name": row.get("name", ""), "vip_level": int(vip_text),
                     "key_account": _flag(row.get("key_account", ""), where, "key_account", problems),
                     "blocked": _flag(row.get("blocked", ""), where, "blocked", problems),
                     "notes": row.get("notes", ""), "language": language})
    if problems:
        raise CustomerImportError(problems[:MAX_PROBLEMS] + ([f"{path}: ... and {len(problems) - MAX_PROBLEMS} "
                                                              f"more problem(s)"] if len(problems) > MAX_PROBLEMS else []))
    return rows


class CustomerDirectory:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    async def by_number(self, number: str) -> dict[str, Any] | None:
        """The customer calling from ``number`` (any common spelling of it), or None."""
        wanted = normalise_number(number)
        if not wanted:
            return None
        candidates = {wanted, "0" + wanted, wanted.lstrip("0")}
        async with self.sessions() as session:
            row = (await session.execute(select(Customer).where(Customer.number.in_(candidates))
                                         .order_by(Customer.id).limit(1))).scalar_one_or_none()
        return customer_view(row) if row else None

    async def import_csv(self, path: Path) -> ImportReport:
        rows = parse_customers_csv(Path(path))
        report = ImportReport(rows=len(rows))
        async with self.sessions() as session:
            async with session.begin():
                existing: dict[str, Customer] = {}
                numbers = [r["number"] for r in rows]
                for i in range(0, len(numbers), 1000):          # bound the IN list (PostgreSQL's parameters)
                    existing.update({c.number: c for c in (await session.execute(
                        select(Customer).where(Customer.number.in_(numbers[i:i + 1000])))).scalars()})
                for row in rows:
                    current = existing.get(row["number"])
                    if current is None:
                        session.add(Customer(**row))
                        report.inserted += 1
                    else:
                        for key, value in row.items():
                            setattr(current, key, value)
                        report.updated += 1
        return report

    async def history(self, number: str, *, limit: int = 10, exclude_linkedid: str | None = None,
                      agent_names: dict[str, str] | None = None) -> list[dict[str, Any]]:
        wanted = normalise_number(number)
        if not wanted:
            return []
        async with self.sessions() as session:
            query = select(CallRecord).where(or_(CallRecord.caller_number == wanted,
                                                 CallRecord.caller_number == number))
            if exclude_linkedid:
                query = query.where(CallRecord.linkedid != exclude_linkedid)
            rows = (await session.execute(query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
                                          .limit(limit))).scalars().all()
        names = agent_names or {}
        return [{"linkedid": r.linkedid, "date": r.started_at.isoformat(), "agent_id": r.agent_id,
                 "agent_name": names.get(r.agent_id or ""), "queue": r.queue, "direction": r.direction,
                 "disposition": r.disposition, "notes": r.notes} for r in rows]
