"""Coalescing concurrent primary-key reads on PostgreSQL.

Under load many ``check`` requests wait on the database at once, each for one row. Sending
them as one query (``unnest`` of the keys joined to the table) costs the database and the
driver one round trip instead of one per request, while each request still reads exactly its
own row by primary key. A lookup made while no other is pending goes out at once (on the
next turn of the event loop), so an idle server adds no latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from plangate.store.db import Database

Key = tuple[str, ...]
Row = tuple[Any, ...]


class BatchedReader:
    """Reads rows by key through ``sql``, which takes one text array per key column (named
    ``k0``, ``k1``, ...) and returns the key columns first, then the values. A batch of one
    goes through ``single_sql`` instead (the same columns for one key, parameters ``k0``,
    ``k1``, ...), the cheaper plan when the server is not busy."""

    def __init__(self, db: Database, sql: str, single_sql: str, key_width: int) -> None:
        self._db = db
        self._sql = sql
        self._single_sql = single_sql
        self._width = key_width
        self._pending: dict[asyncio.AbstractEventLoop, dict[Key, list[asyncio.Future[Row | None]]]]
        self._pending = {}

    async def get(self, key: Key) -> Row | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row | None] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = {}
            loop.call_soon(lambda: asyncio.ensure_future(self._flush(loop)))
        pending.setdefault(key, []).append(future)
        return await future

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, {})
        if not batch:
            return
        keys = list(batch)
        params: dict[str, Any]
        if len(keys) == 1:
            sql, params = self._single_sql, {f"k{i}": keys[0][i] for i in range(self._width)}
        else:
            sql = self._sql
            params = {f"k{i}": [key[i] for key in keys] for i in range(self._width)}
        try:
            rows: Sequence[Row] = await self._db.hot_fetch_all(sql, params)
        except BaseException as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        found = {tuple(row[: self._width]): row[self._width :] for row in rows}
        for key, futures in batch.items():
            for future in futures:
                if not future.done():
                    future.set_result(found.get(key))
