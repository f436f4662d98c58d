"""A TCP proxy a test can cut: the processes under test reach PostgreSQL through it, and
cutting it is a database outage for them alone (the shared PostgreSQL server, and every
other test's database, never notice).

    python tests/integration/tcp_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT [LISTEN_HOST]

LISTEN_HOST (default 127.0.0.1) is the address it accepts on: another network namespace
reaches it through a veth address (tests/integration/test_many_hosts.py).

SIGUSR1 cuts: every connection through it is reset and the port refuses new ones, as a
server that went down. SIGUSR2 restores: the port accepts again. It prints "listening"
and "cut" as it changes state, for the test to wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import struct
import sys


class Proxy:
    def __init__(
        self, port: int, host: str, target_port: int, listen_host: str = "127.0.0.1"
    ) -> None:
        self.port, self.host, self.target_port = port, host, target_port
        self.listen_host = listen_host
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(
                self.handle, self.listen_host, self.port, reuse_address=True
            )
        print("listening", flush=True)

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            # A reset, not a polite close: what a client sees when the server dies.
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        self.writers.clear()
        print("cut", flush=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update({writer, up_writer})
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writers.discard(writer)
            writer.transport.abort()


async def main() -> None:
    port, host, target_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    proxy = Proxy(port, host, target_port, *sys.argv[4:5])
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut)
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.listen()))
    await proxy.listen()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
