"""SQL functions that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["epoch", "string_agg"]


class epoch(sa.sql.expression.FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC of a stored (UTC) datetime column."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch)
def _epoch_default(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class string_agg(sa.sql.expression.FunctionElement[str]):
    """The texts of a group joined by a separator (PostgreSQL ``string_agg``, SQLite ``group_concat``)."""

    type = sa.Text()
    inherit_cache = True


@compiles(string_agg, "sqlite")
def _string_agg_sqlite(element: string_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


@compiles(string_agg)
def _string_agg_default(element: string_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)})"
