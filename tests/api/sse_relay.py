"""A TCP relay that hands a server's event streams on in 7-byte writes, as a slow or fragmenting
network would: for tests/api/test_web.py (an SSE event, a UTF-8 character or a JSON object split
across the browser's network reads).

Requests go to the server as they come. Responses go back as they come, except on a connection that
has carried a ``text/event-stream`` response: from there on every 7 bytes are a write of their own,
sent with TCP_NODELAY and a short pause, so they arrive as separate segments. Other responses (the page,
its script) pass at full speed so the test stays short.
"""

from __future__ import annotations

import asyncio
import socket
import threading

PIECE = 7


class SevenByteRelay:
    """``SevenByteRelay(port).start()`` relays 127.0.0.1:<relay.port> to 127.0.0.1:<port>.

    Counters: ``pieces`` (7-byte writes of event streams), ``split_characters`` (times a piece
    ended inside a multi-byte UTF-8 character)."""

    def __init__(self, target_port: int, pause: float = 0.001):
        self.target_port = target_port
        self.pause = pause
        self.pieces = 0
        self.split_characters = 0
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SevenByteRelay":
        threading.Thread(target=self._run, daemon=True).start()
        assert self.started.wait(10), "the relay did not start"
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.started.set()
        self.loop.run_forever()
        server.close()

    async def _connection(self, client_reader, client_writer) -> None:
        client_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(self._pipe(client_reader, server_writer, slow=False),
                             self._pipe(server_reader, client_writer, slow=True), return_exceptions=True)

    async def _pipe(self, reader, writer, slow: bool) -> None:
        streaming, tail = False, b""
        try:
            while data := await reader.read(65536):
                if slow and not streaming:
                    # In a response's header block only (the page's script names the type too).
                    streaming = b"\r\ncontent-type: text/event-stream" in (tail + data).lower()
                    tail = data[-32:]
                if not streaming:
                    writer.write(data)
                    await writer.drain()
                    continue
                for i in range(0, len(data), PIECE):
                    piece = data[i:i + PIECE]
                    writer.write(piece)
                    await writer.drain()
                    self.pieces += 1
                    if i + PIECE < len(data) and data[i + PIECE] & 0xC0 == 0x80:
                        self.split_characters += 1  # the next byte continues a UTF-8 character
                    await asyncio.sleep(self.pause)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
