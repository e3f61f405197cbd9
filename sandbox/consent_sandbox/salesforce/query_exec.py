"""Runs compiled queries; the matching rows are fixed when the query runs, pages follow a cursor."""

from __future__ import annotations

import time
from array import array
from collections import OrderedDict
from dataclasses import dataclass

from .errors import SalesforceError
from .records import out_value
from .schema import make_id
from .soql import CompiledQuery, compile_query
from .store import Store

DEFAULT_BATCH = 2000
CURSOR_LIFETIME = 2 * 24 * 3600  # since API v56 a cursor lives two days
MEMORY_CURSORS = 32


@dataclass
class Cursor:
    id: str
    soql: str
    include_deleted: bool
    batch_size: int
    rowids: array
    query: CompiledQuery


def batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N``; Salesforce keeps N within 200..2000."""
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(200, min(2000, int(value)))
    return DEFAULT_BATCH


class QueryRunner:
    def __init__(self, store: Store):
        self.store = store
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()
        self.store.db.execute("DELETE FROM _cursors WHERE created < ?",
                              (time.time() - CURSOR_LIFETIME,))

    def forget_cursors(self) -> None:
        self.cursors.clear()

    def run(self, soql: str, include_deleted: bool, size: int, base: str) -> dict:
        query = compile_query(self.store, soql)
        if query.count_only:
            return {"totalSize": self.matching(query, include_deleted), "done": True,
                    "records": []}
        rowids = self.matching(query, include_deleted)
        cursor = None
        if len(rowids) > size:
            cursor = self._save(soql, include_deleted, size, rowids, query)
        return self._page(query, rowids, 0, size, cursor, base)

    def matching(self, query: CompiledQuery, include_deleted: bool) -> array | int:
        """The rowids the query selects, in its order (for COUNT(), an int)."""
        # a User is deactivated, never deleted: it has no IsDeleted to filter on
        deletable = "isdeleted" in query.obj.by_lower()
        where = [] if include_deleted or not deletable else ["t0.IsDeleted = 0"]
        if query.where_sql:
            where.append(query.where_sql)
        where_sql = " WHERE " + " AND ".join(where) if where else ""
        limit_sql = ""
        params = list(query.params)
        if query.limit is not None or query.offset is not None:
            limit_sql = " LIMIT ? OFFSET ?"
            params += [query.limit if query.limit is not None else -1, query.offset or 0]
        if query.count_only:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {query.from_sql}{where_sql}{limit_sql})"
            return self.store.db.execute(sql, params).fetchone()[0]
        sql = f"SELECT t0.rowid FROM {query.from_sql}{where_sql}{query.order_sql}{limit_sql}"
        return array("q", (r[0] for r in self.store.db.execute(sql, params)))

    def more(self, locator: str, size_header: str | None, base: str) -> dict:
        cursor_id, _, offset = locator.partition("-")
        cursor = self._load(cursor_id)
        if cursor is None or not offset.isdigit() or int(offset) > len(cursor.rowids):
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        size = batch_size(size_header) if size_header else cursor.batch_size
        return self._page(cursor.query, cursor.rowids, int(offset), size, cursor, base)

    def _page(self, query: CompiledQuery, rowids: array, start: int, size: int,
              cursor: Cursor | None, base: str) -> dict:
        chunk = rowids[start:start + size]
        end = start + len(chunk)
        body: dict = {"totalSize": len(rowids), "done": end >= len(rowids)}
        if not body["done"] and cursor is not None:
            body["nextRecordsUrl"] = f"{base}/{cursor.id}-{end}"
        elif cursor is not None:
            self.store.db.execute("DELETE FROM _cursors WHERE id = ?", (cursor.id,))
        body["records"] = self.records(query, chunk, base.rsplit("/", 1)[0])
        return body

    def records(self, query: CompiledQuery, rowids: array, version_base: str) -> list[dict]:
        if not rowids:
            return []
        related = {c.path[0]: c for c in query.columns if c.related_type}
        cols = ["t0.rowid", "t0.Id"] + [c.sql for c in query.columns]
        cols += [c.related_id_sql for c in related.values()]
        marks = ", ".join("?" for _ in rowids)
        sql = f"SELECT {', '.join(cols)} FROM {query.from_sql} WHERE t0.rowid IN ({marks})"
        by_rowid = {row[0]: row for row in self.store.db.execute(sql, list(rowids))}
        obj = query.obj.name
        n = len(query.columns)
        out = []
        for rowid in rowids:
            row = by_rowid.get(rowid)
            if row is None:  # emptied by a reset since the query ran
                continue
            record: dict = {"attributes": {"type": obj,
                                           "url": f"{version_base}/sobjects/{obj}/{row[1]}"}}
            related_ids = dict(zip(related, row[2 + n:], strict=True))
            for column, value in zip(query.columns, row[2:2 + n], strict=True):
                if len(column.path) == 1:
                    record[column.path[0]] = out_value(column.field, value)
                    continue
                rel, name = column.path
                rel_id = related_ids[rel]
                if rel_id is None:
                    record[rel] = None
                    continue
                nested = record.get(rel) or {"attributes": {
                    "type": column.related_type,
                    "url": f"{version_base}/sobjects/{column.related_type}/{rel_id}"}}
                nested[name] = out_value(column.field, value)
                record[rel] = nested
            out.append(record)
        return out

    def _save(self, soql: str, include_deleted: bool, size: int, rowids: array,
              query: CompiledQuery) -> Cursor:
        cursor_id = make_id("01g", self.store.next_numbers(1)[0])
        self.store.db.execute("INSERT INTO _cursors VALUES (?, ?, ?, ?, ?, ?)",
                              (cursor_id, soql, int(include_deleted), size, rowids.tobytes(),
                               time.time()))
        cursor = Cursor(cursor_id, soql, include_deleted, size, rowids, query)
        self._remember(cursor)
        return cursor

    def _remember(self, cursor: Cursor) -> None:
        self.cursors[cursor.id] = cursor
        self.cursors.move_to_end(cursor.id)
        while len(self.cursors) > MEMORY_CURSORS:
            self.cursors.popitem(last=False)

    def _load(self, cursor_id: str) -> Cursor | None:
        if cursor_id in self.cursors:
            self.cursors.move_to_end(cursor_id)
            return self.cursors[cursor_id]
        row = self.store.db.execute(
            "SELECT soql, include_deleted, batch_size, rowids FROM _cursors WHERE id = ?",
            (cursor_id,)).fetchone()
        if row is None:
            return None
        rowids = array("q")
        rowids.frombytes(row[3])
        cursor = Cursor(cursor_id, row[0], bool(row[1]), row[2], rowids,
                        compile_query(self.store, row[0]))
        self._remember(cursor)
        return cursor
