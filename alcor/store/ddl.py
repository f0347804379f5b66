"""Schema statements for either engine: the one place where dialects differ in DDL.

A migration (alcor/store/schema.py) is a function of a `Ddl`, which collects the
statements of its dialect; the store runs them in one transaction and records the
migration's number (SQLite: `PRAGMA user_version`; PostgreSQL: the `schema_version` table).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from alcor.store.db import Dialect

# Column types as Python types (str, int, float) or SQL written for SQLite ("INTEGER NOT
# NULL"), translated for PostgreSQL: 64-bit integers, double floats, and byte-order text
# comparison ("C" collation) so that ORDER BY and range keys behave as in SQLite.
_PG_TYPES = {"TEXT": 'TEXT COLLATE "C"', "INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION"}
_SQLITE_TYPE = {str: "TEXT", int: "INTEGER", float: "REAL"}
_LEADING_TYPE = re.compile(r"^(TEXT|INTEGER|REAL)\b")


class Ddl:
    """Collect a migration's statements in one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.statements: list[str] = []

    def column_type(self, spec: type | str) -> str:
        """Return the column definition of `spec` in this dialect."""
        sql = _SQLITE_TYPE[spec] if isinstance(spec, type) else spec
        if self.dialect == "postgresql":
            sql = _LEADING_TYPE.sub(lambda m: _PG_TYPES[m.group(1)], sql)
        return sql

    def table(
        self,
        name: str,
        columns: Mapping[str, type | str],
        pk: str | tuple[str, ...],
        indexes: Sequence[tuple[str, ...]] = (),
        unique: Sequence[tuple[str, ...]] = (),
        without_rowid: bool = False,
    ) -> None:
        """Create a table with its primary key (NOT NULL) and indexes."""
        keys = (pk,) if isinstance(pk, str) else pk
        defs = []
        for column, spec in columns.items():
            definition = f'"{column}" {self.column_type(spec)}'
            if column in keys and "NOT NULL" not in definition:
                definition += " NOT NULL"
            defs.append(definition)
        defs.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in keys) + ")")
        tail = " WITHOUT ROWID" if without_rowid and self.dialect == "sqlite" else ""
        self.statements.append(f'CREATE TABLE "{name}" ({", ".join(defs)}){tail}')
        for cols in indexes:
            self.index(name, cols)
        for cols in unique:
            self.index(name, cols, unique=True)

    def index(
        self, table: str, columns: tuple[str, ...], unique: bool = False, where: str = ""
    ) -> None:
        """Create an index named after its table and columns (`where`: partial index)."""
        prefix = "uq" if unique else "idx"
        name = f"{prefix}_{table}_{'_'.join(columns)}"
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f'CREATE {"UNIQUE " if unique else ""}INDEX "{name}" ON "{table}" ({cols})'
        self.statements.append(f"{sql} WHERE {where}" if where else sql)

    def sql(self, statement: str = "", *, sqlite: str = "", postgresql: str = "") -> None:
        """Add a statement for both dialects, or one per dialect (empty: none)."""
        chosen = statement or (sqlite if self.dialect == "sqlite" else postgresql)
        if chosen:
            self.statements.append(chosen)
