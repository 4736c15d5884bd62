"""A report's result as JSON, a text table, CSV (UTF-8 with BOM, for Excel) or XLSX with native charts."""
from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from reports.catalogue import Column, Report, Result
from reports.filters import Filters

INTERVAL_NAMES = {900: "15m", 1800: "30m", 3600: "1h", 86400: "1d"}
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="B4C6E7")


def heading(column: Column) -> str:
    return f"{column.zh} ({column.en})" if column.zh != column.en else column.en


def describe(report: Report, filters: Filters) -> dict[str, Any]:
    return {"report": report.name, "title_zh": report.zh, "title_en": report.en,
            "from": filters.local(filters.since).isoformat(), "to": filters.local(filters.until).isoformat(),
            "interval": INTERVAL_NAMES.get(filters.interval_s, str(filters.interval_s)),
            "time_zone": filters.time_zone, "queue": filters.queue, "agent": filters.agent, "team": filters.team}


def to_json(report: Report, result: Result, filters: Filters) -> dict[str, Any]:
    return {**describe(report, filters),
            "columns": [{"key": c.key, "zh": c.zh, "en": c.en, "kind": c.kind} for c in report.columns],
            "charts": [{"kind": c.kind, "category": c.category, "values": list(c.values), "title_zh": c.title_zh,
                        "title_en": c.title_en} for c in report.charts],
            "summary": [{"zh": zh, "en": en, "value": value} for zh, en, value in result.summary],
            "rows": result.rows}


def _text(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "%" and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if kind != "s" else f"{value:.1f}"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _kind(report: Report, row: dict[str, Any], column: Column) -> str:
    return row.get("kind", column.kind) if column.key == "value" else column.kind


def to_table(report: Report, result: Result, filters: Filters) -> str:
    info = describe(report, filters)
    lines = [f"{report.zh} / {report.en}  {info['from']} – {info['to']}  ({info['interval']}, {filters.time_zone})"]
    lines += [f"{zh} ({en}): {_text(v, '')}" for zh, en, v in result.summary]
    headers = [heading(c) for c in report.columns]
    cells = [[_text(row.get(c.key), _kind(report, row, c)) for c in report.columns] for row in result.rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths)).rstrip()

    lines += [line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells]
    if not result.rows:
        lines.append("(no calls in this range)")
    return "\n".join(lines) + "\n"


def to_csv(report: Report, result: Result, filters: Filters) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading(c) for c in report.columns])
    for row in result.rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in report.columns])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(report: Report, result: Result, filters: Filters) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = report.en[:31]
    info = describe(report, filters)
    ws["A1"] = f"{report.zh} / {report.en}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{info['from']} – {info['to']}  ·  {info['interval']}  ·  {filters.time_zone}" + "".join(
        f"  ·  {k} {v}" for k, v in (("queue", filters.queue), ("agent", filters.agent), ("team", filters.team)) if v)
    row_no = 3
    for zh, en, value in result.summary:
        ws.cell(row_no, 1, f"{zh} ({en})").font = Font(bold=True)
        ws.cell(row_no, 2, value)
        row_no += 1
    header_row = row_no + 1
    for col, column in enumerate(report.columns, start=1):
        cell = ws.cell(header_row, col, heading(column))
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        ws.column_dimensions[get_column_letter(col)].width = max(10, min(40, _width(heading(column)) // 2 + 4))
    ws.row_dimensions[header_row].height = 32
    for r, row in enumerate(result.rows, start=header_row + 1):
        for col, column in enumerate(report.columns, start=1):
            cell = ws.cell(r, col, row.get(column.key))
            kind = _kind(report, row, column)
            if kind == "%":
                cell.number_format = "0.0%"
            elif kind in ("s", "float"):
                cell.number_format = "0.0"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    last = header_row + len(result.rows)
    anchor_row = header_row
    keys = [c.key for c in report.columns]
    for chart_def in report.charts if result.rows else ():
        chart = _chart(chart_def.kind)
        chart.title = f"{chart_def.title_zh} {chart_def.title_en}".strip()
        cats = Reference(ws, min_col=keys.index(chart_def.category) + 1, min_row=header_row + 1, max_row=last)
        for key in chart_def.values:
            col = keys.index(key) + 1
            chart.add_data(Reference(ws, min_col=col, min_row=header_row, max_row=last), titles_from_data=True)
        chart.set_categories(cats)
        chart.width, chart.height = 18, 9
        ws.add_chart(chart, f"{get_column_letter(len(keys) + 2)}{anchor_row}")
        anchor_row += 20
    ws.page_setup.orientation = "landscape"          # printed: one page wide, table and charts together
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _chart(kind: str) -> Any:
    if kind == "pie":
        return PieChart()
    if kind == "line":
        chart: Any = LineChart()
    else:
        chart = BarChart()
        chart.type = "col"
    chart.y_axis.majorGridlines = None
    return chart


FORMATS = ("table", "json", "csv", "xlsx")
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "table": "text/plain; charset=utf-8"}
