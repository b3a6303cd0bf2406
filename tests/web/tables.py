"""Rows of one HTML table by its id, for page tests (the standard library's parser; no browser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)


class _Table(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.in_body = False
        self.in_cell = False
        self.rows: list[Row] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "table" and values.get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append(Row(values))
        elif self.in_body and tag == "td":
            self.in_cell = True
            self.rows[-1].cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.in_cell = False
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.rows[-1].cells[-1] += data


def table_rows(html: str, table_id: str) -> list[Row]:
    """The body rows of ``<table id=table_id>``: each row's attributes and its cells' text (whitespace collapsed)."""
    parser = _Table(table_id)
    parser.feed(html)
    for row in parser.rows:
        row.cells = [" ".join(cell.split()) for cell in row.cells]
    return parser.rows
