"""TCP relay: lets containers on Docker's bridge reach emulators that listen on loopback.

    python3 relay.py BIND_ADDRESS LISTEN_PORT:TARGET_PORT [...]

listens on BIND_ADDRESS:LISTEN_PORT for each pair and forwards every connection to
127.0.0.1:TARGET_PORT, both ways, until killed. Bytes pass unchanged, so a presigned
URL signed for the bridge address verifies at the emulator, which sees that Host
header. LISTEN_PORT 0 takes a free port; the ports taken are printed, one line
`TARGET_PORT LISTEN_PORT` each, then `ready`.
"""

import asyncio
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - already gone
            pass


def forwarder(port: int):
    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer)
        )

    return handle


async def main(address: str, pairs: list[tuple[int, int]]) -> None:
    servers = []
    for listen, target in pairs:
        server = await asyncio.start_server(forwarder(target), address, listen)
        print(target, server.sockets[0].getsockname()[1], flush=True)
        servers.append(server)
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pairs = [tuple(int(p) for p in pair.split(":")) for pair in sys.argv[2:]]
    asyncio.run(main(sys.argv[1], pairs))
