"""Two database backends behind one small interface: SQLite (aiosqlite) and PostgreSQL (asyncpg).

Queries are written once with ``?`` placeholders; the PostgreSQL backend numbers them
(``$1, $2 ...``).  Column types differ only in the migration templates (see ``_store``).
Rows come back as plain dicts.

SQLite: one connection (aiosqlite runs it on its own thread, so the event loop never blocks),
WAL journal, an ``asyncio.Lock`` so a transaction's statements never interleave with another
caller's.  PostgreSQL: an asyncpg pool; each transaction holds one pooled connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Sequence

    import aiosqlite

    from ._config import DatabaseURL

__all__ = ["Database", "Executor", "Row", "open_database"]

Row = dict[str, Any]


class Executor(Protocol):
    """Runs statements: the database itself, or one transaction of it."""

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> Any: ...


class Database(Executor, Protocol):
    """An open database: statements, transactions, size, close."""

    dialect: Literal["sqlite", "postgresql"]

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Executor]: ...

    async def size_bytes(self) -> int | None: ...

    async def aclose(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------------------
class _SQLiteExecutor:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        await self._conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self._conn.executemany(sql, [tuple(r) for r in rows])

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> Any:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]


class SQLiteDatabase:
    """A SQLite file through aiosqlite."""

    dialect: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()
        self._exec = _SQLiteExecutor(conn)

    def __repr__(self) -> str:
        return f"<SQLiteDatabase {self._path!r}>"

    @classmethod
    async def open(cls, path: str) -> SQLiteDatabase:
        """Open (creating) the file; WAL journal, foreign keys on."""
        import aiosqlite

        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        async with self._lock:
            await self._exec.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        async with self._lock:
            await self._exec.executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        async with self._lock:
            return await self._exec.fetch(sql, params)

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> Any:
        async with self._lock:
            return await self._exec.fetchval(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._exec
            except BaseException:
                await asyncio.shield(self._conn.execute("ROLLBACK"))
                raise
            await asyncio.shield(self._conn.execute("COMMIT"))

    async def size_bytes(self) -> int | None:
        if self._path == ":memory:":
            return None

        def size() -> int:
            return sum(
                os.path.getsize(p)
                for p in (self._path, self._path + "-wal", self._path + "-shm")
                if os.path.exists(p)
            )

        return await asyncio.to_thread(size)

    async def aclose(self) -> None:
        async with self._lock:
            await self._conn.close()


# --- PostgreSQL -----------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\?")


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 ...`` (our SQL has no ``?`` in literals)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


class _PGExecutor:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        await self._conn.execute(_numbered(sql), *params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            await self._conn.executemany(_numbered(sql), batch)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return [dict(r) for r in await self._conn.fetch(_numbered(sql), *params)]

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> Any:
        return await self._conn.fetchval(_numbered(sql), *params)


class PostgresDatabase:
    """A PostgreSQL database through an asyncpg pool."""

    dialect: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def __repr__(self) -> str:
        return "<PostgresDatabase>"

    @classmethod
    async def open(cls, dsn: str) -> PostgresDatabase:
        """Connect a small pool (1-4 connections)."""
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, command_timeout=60)
        return cls(pool)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        async with self._pool.acquire() as conn:
            await _PGExecutor(conn).execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        async with self._pool.acquire() as conn:
            await _PGExecutor(conn).executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        async with self._pool.acquire() as conn:
            return await _PGExecutor(conn).fetch(sql, params)

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> Any:
        async with self._pool.acquire() as conn:
            return await _PGExecutor(conn).fetchval(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PGExecutor(conn)

    async def size_bytes(self) -> int | None:
        value = await self.fetchval("SELECT pg_database_size(current_database())")
        return int(value) if value is not None else None

    async def aclose(self) -> None:
        await self._pool.close()


async def open_database(url: DatabaseURL) -> Database:
    """Open the database ``url`` names.

    Raises:
        ImportError: The backend's driver is not installed (``pip install 'aiohyperv[serve]'``).
        OSError / asyncpg errors: It cannot be opened.
    """
    if url.kind == "postgresql":
        return await PostgresDatabase.open(url.target)
    return await SQLiteDatabase.open(url.target)
