"""No-op servers for the machine limits: an HTTP app and gRPC agents that do nothing.

Run as a child process (`python -m alcor.bench.noop http|grpc ...`), like `alcor serve` and
the agents in the real scenarios, so the client's CPU and the server's are as apart as
there. It prints one JSON line with what it bound, then serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

import orjson
from aiohttp import web

from alcor.proto import schema

# About the size of a port create's response, so the no-op pays what a real reply costs
# to frame and send.
_PORT_REPLY = orjson.dumps({"port": {f"attribute_{i}": "x" * 24 for i in range(24)}})
_EMPTY_REPLY = bytes(schema.GoalStateOperationReply(format_version=102))


async def _noop(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_PORT_REPLY, content_type="application/json")


async def serve_http(host: str) -> tuple[Any, dict[str, Any]]:
    """Serve POST and GET /noop on a free port; return (runner, what was bound)."""
    app = web.Application()
    app.router.add_route("*", "/noop", _noop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, {"url": f"http://{host}:{port}/noop"}


class _EmptyAgent:
    """PushGoalStatesStream: read one goal state, answer one empty reply."""

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        from alcor_grpc.wire import PUSH_V2, Raw

        return {
            PUSH_V2: Handler(
                self._push, Cardinality.STREAM_STREAM, Raw, schema.GoalStateOperationReply
            )
        }

    @staticmethod
    async def _push(stream: Any) -> None:
        await stream.recv_message()
        await stream.send_message(_EMPTY_REPLY)


async def serve_grpc(first_ip: str, count: int) -> tuple[list[Any], dict[str, Any]]:
    """Serve `count` empty agents on consecutive loopback IPs; return (servers, their addresses).

    The agents use grpclib, as the reference agents do, so the limit is what agents built
    like them can take.
    """
    from alcor.agent.pool import agent_ips
    from alcor_grpc.wire import CODEC, ClosingServer, bind_socket

    servers, agents = [], []
    for ip in agent_ips(first_ip, count):
        sock = bind_socket(ip, 0)
        server = ClosingServer([_EmptyAgent()], codec=CODEC)
        await server.start(sock=sock)
        servers.append(server)
        agents.append([ip, sock.getsockname()[1]])
    return servers, {"agents": agents}


async def _main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "http":
        runner, bound = await serve_http(argv[1])
    else:
        servers, bound = await serve_grpc(argv[1], int(argv[2]))
    print(json.dumps(bound), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    if kind == "http":
        await runner.cleanup()
    else:
        for server in servers:
            server.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
