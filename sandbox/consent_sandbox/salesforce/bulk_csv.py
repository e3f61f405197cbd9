"""CSV as Bulk API 2.0 writes and reads it: the job's delimiter and line ending, values quoted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .schema import FieldDef

DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";",
              "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"  # an upload sets a field to null with this; an empty value leaves it alone


def write_csv(header: list[str], rows: Iterable[list[str]], delimiter: str,
              line_ending: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[delimiter],
                        lineterminator=LINE_ENDINGS[line_ending], quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    """Rows of an upload (header first); either line ending is read, quoted newlines kept."""
    text = data.decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text, newline=""),
                                      delimiter=DELIMITERS[delimiter], strict=True) if row]


def out_text(field: FieldDef, value: object) -> str:
    """A stored value as a Bulk result shows it; null is empty."""
    if value is None:
        return ""
    if field.type == "boolean":
        return "true" if value else "false"
    if field.type == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"  # Bulk results write UTC datetimes with a Z
    return str(value)


def in_value(field: FieldDef, text: str) -> object:
    """An uploaded CSV value as the JSON value the REST write path validates."""
    if text == NULL:
        return None
    if field.type == "boolean":
        lowered = text.strip().lower()
        if lowered in ("1", "yes"):
            return True
        if lowered in ("0", "no"):
            return False
        return text
    if field.type in ("double", "currency", "percent", "int"):
        try:
            number = float(text)
        except ValueError:
            return text  # the write path names the field and the value
        return int(number) if field.type == "int" and number.is_integer() else number
    return text
