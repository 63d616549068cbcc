"""A recording TCP relay on 127.0.0.1, shared by the auth and simulator tests.

It is how a test sees what crossed "the network": put it between a client and a server and
read :meth:`RecordingProxy.client_bytes` / :meth:`RecordingProxy.server_bytes` afterwards.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class RecordingProxy:
    """A TCP relay on 127.0.0.1 that records every byte, per connection and direction.

    ``tamper`` may rewrite server-to-client chunks (to corrupt a sealed response).
    """

    def __init__(self, upstream_port: int, *, scheme: str = "http") -> None:
        self.upstream_port = upstream_port
        self.scheme = scheme
        self.connections: list[tuple[bytearray, bytearray]] = []
        self.tamper: Callable[[bytes], bytes] | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def __aenter__(self) -> RecordingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/wsman"

    def client_bytes(self) -> bytes:
        return b"".join(bytes(c2s) for c2s, _ in self.connections)

    def server_bytes(self) -> bytes:
        return b"".join(bytes(s2c) for _, s2c in self.connections)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [writer, up_writer]
        record = (bytearray(), bytearray())
        self.connections.append(record)

        async def pipe(
            src: asyncio.StreamReader,
            dst: asyncio.StreamWriter,
            buf: bytearray,
            tamper: bool,
        ) -> None:
            try:
                while chunk := await src.read(65536):
                    buf.extend(chunk)
                    if tamper and self.tamper is not None:
                        chunk = self.tamper(chunk)
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        for coro in (
            pipe(reader, up_writer, record[0], False),
            pipe(up_reader, writer, record[1], True),
        ):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
