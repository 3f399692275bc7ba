"""The simulator's register: SQLite (a file, or in memory), one row per stored form.

Forms are kept as their official JSON (what ``SmdbModel.to_official`` gives), with the columns needed to
find and reference them. Writes happen in one transaction per SOAP call, under one lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smdb.files import check_sqlite_tables, create_owner_only

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    cpr TEXT,
    kommune INTEGER,
    anmodning_id INTEGER,
    ivaerksaettelse_id INTEGER,
    indskrivning_id INTEGER,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_cpr ON records (kind, cpr);
CREATE INDEX IF NOT EXISTS records_anm ON records (kind, anmodning_id);
CREATE INDEX IF NOT EXISTS records_iv ON records (kind, ivaerksaettelse_id);
CREATE INDEX IF NOT EXISTS records_inds ON records (kind, indskrivning_id);
"""


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    kind: str
    cpr: str | None
    kommune: int | None
    anmodning_id: int | None
    ivaerksaettelse_id: int | None
    indskrivning_id: int | None
    data: dict[str, Any]


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:"
        if path is not None:
            p = Path(path)
            create_owner_only(p, lambda f: check_sqlite_tables(f, {"records"}, "en simulator-database"))
            target = str(p)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(self, kind: str, data: dict[str, Any], **cols: Any) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO records (kind, cpr, kommune, anmodning_id, ivaerksaettelse_id, indskrivning_id, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    cols.get("cpr"),
                    cols.get("kommune"),
                    cols.get("anmodning_id"),
                    cols.get("ivaerksaettelse_id"),
                    cols.get("indskrivning_id"),
                    json.dumps(data),
                ),
            )
            return int(cur.lastrowid or 0)

    def update(self, record_id: int, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("UPDATE records SET data = ? WHERE id = ?", (json.dumps(data), record_id))

    def delete_tree(self, record_id: int) -> int:
        """Delete a record and every record that refers to it (what DST or SMDB-web does when a municipality asks
        for a course to be deleted, §5.1 and the systemskifte guide); returns how many records went."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM records WHERE id = ? OR anmodning_id = ? OR ivaerksaettelse_id = ? OR indskrivning_id = ?",
                (record_id, record_id, record_id, record_id),
            )
            return int(cur.rowcount)

    def get(self, record_id: int, kind: str) -> Row | None:
        rows = self.find(kind, id=record_id)
        return rows[0] if rows else None

    def find(self, kind: str, **where: Any) -> list[Row]:
        sql = "SELECT id, kind, cpr, kommune, anmodning_id, ivaerksaettelse_id, indskrivning_id, data FROM records"
        clauses = ["kind = ?"]
        args: list[Any] = [kind]
        for col, value in where.items():
            if value is None:
                continue
            clauses.append(f"{col} = ?")
            args.append(value)
        with self._lock:
            cur = self._db.execute(f"{sql} WHERE {' AND '.join(clauses)} ORDER BY id", args)
            return [Row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7])) for r in cur.fetchall()]

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
