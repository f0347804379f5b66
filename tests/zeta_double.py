"""A stand-in for Zeta's management API (tests and `alcor bench` only, never `alcor serve`).

It behaves as Zeta's own code does (southbound spec §8.4, from futurewei-cloud/zeta
src/mgmt/manager/project/api): a duplicate VPC or port is a 500 (not a 409), an unknown id
is a 500, array PUT/DELETE of /ports are 405, POST /ports writes its rows before its
data-plane call, and the VNIs and the active ZGC live only in memory, so a restart loses
them (the VPC and port rows stay). It records every call, and has fault switches:

* `fail_next(n, when)`: the next n calls (matching `when`) answer 500 and do nothing;
* `commit_then_fail(n)`: the next n writes do their work, then answer 500;
* `drop_next(n)`: the next n calls get their connection closed, no answer;
* `hang(when)` / `release()`: calls wait (the caller's deadline passes), then are served;
* `restart()`: forget the VNIs and the active ZGC, as a restarted Zeta manager does.

Run alone: `python -m tests.zeta_double --port 5000 [--zgc]` (GET /_double/state reports
counts; POST /_double/restart restarts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

VPC_KEYS = frozenset({"vpc_id", "vni"})
PORT_KEYS = ("port_id", "vpc_id", "ips_port", "mac_port", "ip_node", "mac_node")


@dataclass(frozen=True)
class Call:
    """One request the double received, and its answer."""

    method: str
    path: str
    body: Any
    status: int

    @property
    def vpc(self) -> str | None:
        """Return the VPC a /vpcs call is about."""
        if self.path.startswith("/vpcs/"):
            return self.path.split("/")[2]
        return self.body.get("vpc_id") if isinstance(self.body, dict) else None


class ZetaError(Exception):
    """What makes Zeta's Flask app answer 500 (an exception escaping a view)."""


@dataclass
class ZetaDouble:
    """Zeta's state (rows that persist, memory that a restart wipes) and fault switches."""

    zgcs: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows
    vpcs: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows, by ip_node
    active_zgc: dict[str, Any] = field(default_factory=dict)  # memory
    vnis: dict[str, int] = field(default_factory=dict)  # memory
    calls: list[Call] = field(default_factory=list)
    held: int = 0  # calls waiting in hang()
    _fail: int = 0
    _fail_when: Any = None
    _commit_fail: int = 0
    _drop: int = 0
    _hanging: asyncio.Event | None = None
    _hang_when: Any = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _serving: set[asyncio.Future[web.StreamResponse]] = field(default_factory=set)

    # ---- fault switches ----------------------------------------------------------------
    def fail_next(self, n: int, when: Any = None) -> None:
        """Answer the next n calls 500 without doing anything (only those for which
        when(method, path, body) is true, if given)."""
        self._fail, self._fail_when = n, when

    def commit_then_fail(self, n: int) -> None:
        """Let the next n writes do their work, then answer 500."""
        self._commit_fail = n

    def drop_next(self, n: int) -> None:
        """Close the connection of the next n calls without answering."""
        self._drop = n

    def hang(self, when: Any = None) -> None:
        """Hold every call (those for which when(method, path, body) is true) until release()."""
        self._hanging = asyncio.Event()
        self._hang_when = when

    def release(self) -> None:
        """Serve the held calls and stop holding new ones."""
        if self._hanging is not None:
            self._hanging.set()
        self._hanging = None

    def restart(self) -> None:
        """Forget the VNIs and the active ZGC (Zeta keeps them in process memory)."""
        self.vnis.clear()
        self.active_zgc.clear()

    def create_zgc(self, ip_start: str = "10.254.0.2", ip_end: str = "10.254.0.4") -> str:
        """Provision a ZGC as an operator would (POST /zgcs); return its id."""
        return self._zgc_create(
            {"name": "zgc", "ip_start": ip_start, "ip_end": ip_end, "port_ibo": "8300"}
        )["zgc_id"]

    # ---- what tests read ---------------------------------------------------------------
    def writes(self) -> list[tuple[str, str]]:
        """Return (method, path) of every call but GETs, in order."""
        return [(c.method, c.path) for c in self.calls if c.method != "GET"]

    async def wait(self, predicate: Any, timeout: float = 60.0) -> None:
        """Wait until predicate(self) holds (re-checked after every call)."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()

    # ---- the API ---------------------------------------------------------------------
    def app(self) -> web.Application:
        """Return the aiohttp application serving this double."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        path = "/" + request.match_info["tail"]
        if path.startswith("/_double/"):
            return self._control(request.method, path)
        # Zeta (Flask) finishes a request whose client went away: so does the double.
        task = asyncio.ensure_future(self._serve(request, path, body))
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)
        return await asyncio.shield(task)

    async def _serve(self, request: web.Request, path: str, body: Any) -> web.StreamResponse:
        hanging = self._hanging
        if hanging is not None and (
            self._hang_when is None or self._hang_when(request.method, path, body)
        ):
            self.held += 1
            self.changed.set()
            await hanging.wait()
            self.held -= 1
        if self._drop:
            self._drop -= 1
            self._record(request.method, path, body, 0)
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPBadRequest()  # never reaches the closed connection
        status, answer = self._answer(request.method, path, body)
        self._record(request.method, path, body, status)
        if answer is None:
            return web.Response(status=status)
        return web.json_response(answer, status=status)

    def _record(self, method: str, path: str, body: Any, status: int) -> None:
        self.calls.append(Call(method, path, body, status))
        self.changed.set()

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self._fail and (self._fail_when is None or self._fail_when(method, path, body)):
            self._fail -= 1
            return 500, {"error": "injected failure"}
        try:
            status, answer = self._route(method, path.rstrip("/"), body)
        except ZetaError as exc:
            return 500, {"error": str(exc)}
        if self._commit_fail and method != "GET" and status < 300:
            self._commit_fail -= 1
            return 500, {"error": "injected failure after commit"}
        return status, answer

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        collection, item = parts[0], (parts[1] if len(parts) > 1 else None)
        table = {
            ("zgcs", False, "POST"): lambda: (201, self._zgc_create(body)),
            ("vpcs", False, "POST"): lambda: (201, self._vpc_create(body)),
            ("vpcs", True, "GET"): lambda: (200, self._vpc_show(self._row(self.vpcs, item))),
            ("vpcs", True, "DELETE"): lambda: self._vpc_delete(item),
            ("ports", False, "POST"): lambda: (201, self._ports_create(body)),
            ("ports", True, "GET"): lambda: (200, self._row(self.ports, item)),
            ("ports", True, "PUT"): lambda: (200, self._port_update(item, body)),
            ("ports", True, "DELETE"): lambda: self._port_delete(item),
            ("nodes", False, "POST"): lambda: (201, {**body, "node_id": str(uuid.uuid4())}),
        }
        handler = table.get((collection, item is not None, method))
        if handler is not None:
            return handler()
        if collection == "ports" and item is None and method in ("PUT", "DELETE"):
            return 405, {"message": "The method is not allowed for the requested URL."}
        return 404, {"message": "not found"}

    @staticmethod
    def _row(table: dict[str, dict[str, Any]], key: str | None) -> dict[str, Any]:
        if key not in table:  # Zeta calls .to_json() on None
            raise ZetaError("'NoneType' object has no attribute 'to_json'")
        return dict(table[key])

    def _zgc_create(self, body: dict[str, Any]) -> dict[str, Any]:
        zgc = {**body, "zgc_id": str(uuid.uuid4())}
        self.zgcs[zgc["zgc_id"]] = zgc
        if not self.active_zgc:
            self.active_zgc.update(zgc)
        return zgc

    def _vpc_show(self, vpc: dict[str, Any]) -> dict[str, Any]:
        if not self.active_zgc:  # settings.activeZgc["port_ibo"]: KeyError
            raise ZetaError("KeyError: 'port_ibo'")
        first = int(self.active_zgc["ip_start"].rsplit(".", 1)[1])
        last = int(self.active_zgc["ip_end"].rsplit(".", 1)[1])
        prefix = self.active_zgc["ip_start"].rsplit(".", 1)[0]
        gws = [
            {"ip": f"{prefix}.{i}", "mac": f"aa:bb:cc:00:00:{i:02x}"}
            for i in range(first, last + 1)
        ]
        return {**vpc, "port_ibo": self.active_zgc["port_ibo"], "gws": gws}

    def _vpc_create(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.active_zgc:
            raise ZetaError("KeyError: 'zgc_id'")
        if not isinstance(body, dict) or not set(body) <= VPC_KEYS:
            raise ZetaError("TypeError: unexpected keyword argument")
        if body.get("vpc_id") in self.vpcs:
            raise ZetaError("IntegrityError: duplicate key value violates unique constraint")
        vpc = {
            "vpc_id": body["vpc_id"],
            "vni": body.get("vni"),
            "zgc_id": self.active_zgc["zgc_id"],
        }
        self.vpcs[vpc["vpc_id"]] = vpc
        self.vnis[vpc["vpc_id"]] = body.get("vni")  # type: ignore[assignment]
        return self._vpc_show(vpc)

    def _vpc_delete(self, vpc_id: str | None) -> tuple[int, Any]:
        self._row(self.vpcs, vpc_id)
        if any(p["vpc_id"] == vpc_id for p in self.ports.values()):
            raise ZetaError("IntegrityError: ports still reference the VPC")
        del self.vpcs[vpc_id]  # type: ignore[arg-type]
        return 204, None

    def _ports_create(self, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hosts, ports = {}, {}
        for post in body:
            vni = self.vnis.get(post.get("vpc_id"))  # int(vnis.get(vpc_id)) before any write
            if vni is None:
                raise ZetaError("TypeError: int() argument must be a ... not 'NoneType'")
            missing = [k for k in PORT_KEYS if k not in post]
            if missing:
                raise ZetaError(f"KeyError: {missing[0]!r}")
            ip_node = post["ip_node"]
            host = self.hosts.get(ip_node) or hosts.get(ip_node)
            if host is None:
                host = hosts[ip_node] = {"host_id": str(uuid.uuid4()), "mac_node": post["mac_node"]}
            eps = [{"ip": ip["ip"], "vip": ip["vip"]} for ip in post["ips_port"]]
            ports[post["port_id"]] = {
                "port_id": post["port_id"],
                "mac_port": post["mac_port"],
                "vpc_id": post["vpc_id"],
                "host_id": host["host_id"],
                "eps": eps,
            }
        self.hosts.update(hosts)  # committed before the ports (and kept when they fail)
        if len(ports) != len(body) or set(ports) & set(self.ports):
            raise ZetaError("IntegrityError: duplicate key value violates unique constraint")
        self.ports.update(ports)
        return body

    def _port_update(self, port_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
        self._row(self.ports, port_id)
        self.ports[port_id]["mac_port"] = body.get("mac_port")  # type: ignore[index]
        return dict(self.ports[port_id])  # type: ignore[index]

    def _port_delete(self, port_id: str | None) -> tuple[int, Any]:
        self._row(self.ports, port_id)
        del self.ports[port_id]  # type: ignore[arg-type]
        return 204, None

    def _control(self, method: str, path: str) -> web.Response:
        if path == "/_double/restart" and method == "POST":
            self.restart()
        elif path == "/_double/zgc" and method == "POST":
            self.create_zgc()
        return web.json_response(
            {"vpcs": len(self.vpcs), "ports": len(self.ports), "calls": len(self.calls)}
        )


@contextlib.asynccontextmanager
async def served() -> AsyncIterator[ZetaDouble]:
    """Serve a double with a ZGC on 127.0.0.1 for the block; its URL is `double.url`."""
    double = ZetaDouble()
    double.create_zgc()
    server = TestServer(double.app(), host="127.0.0.1")
    await server.start_server()
    double.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    try:
        yield double
    finally:
        double.release()
        await server.close()


def main() -> None:
    """Serve a double on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--zgc", action="store_true", help="provision a ZGC at start")
    args = parser.parse_args()
    double = ZetaDouble()
    if args.zgc:
        double.create_zgc()
    web.run_app(double.app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
