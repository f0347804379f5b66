"""`alcor bench --scenario api-under-push`: the API's latency while agents are programmed.

Issue 18's target: the API's p50 stays within 20% of its value without agents while 100
agents are being programmed. Port creates at a fixed rate (open loop: one every 1/rate s,
whatever the answers do) on one network, against a fresh `alcor serve` without agents
(the ports unbound) and against a fresh one with N reference agents in their own process,
every port bound to one of them (so each create sends a neighbor state to every host).
Rounds alternate, so that a slow drift of the machine hits both; the figure is each
round's p50 with agents over the p50 without, median over the rounds.
"""

from __future__ import annotations

import statistics
import time

from alcor.bench.client import Client
from alcor.bench.e2e import AgentProcess, network, offered, register
from alcor.bench.scenarios import Progress, Sizes
from alcor.bench.server import ServerProcess
from alcor.bench.stats import Samples

LABEL = "api under push"


async def run(sizes: Sizes, progress: Progress, transport: str = "grpc") -> list[Samples]:
    """Run the rounds; return the create latencies without and with agents, and the ratio."""
    rounds: dict[int, list[Samples]] = {0: [], sizes.under_push_agents: []}
    total = 2 * sizes.under_push_rounds
    for _ in range(sizes.under_push_rounds):
        for agents in rounds:
            rounds[agents].append(await _round(agents, sizes, transport))
            progress(LABEL, sum(len(r) for r in rounds.values()), total)
    return _results(sizes, rounds[0], rounds[sizes.under_push_agents])


async def _round(agents: int, sizes: Sizes, transport: str) -> Samples:
    server = ServerProcess()
    pool = AgentProcess(agents, server.grpc_port, server.workdir) if agents else None
    client = Client(server.url)
    try:
        await server.start()
        hosts = await register(client, await pool.start(), transport) if pool else []
        net_id = await network(client, "under-push")
        samples = Samples(f"{agents} agents")
        started = time.perf_counter()
        await offered(
            client, net_id, hosts, sizes.under_push_ports, sizes.under_push_rate, 1, samples
        )
        samples.wall = time.perf_counter() - started
        return samples
    finally:
        if pool is not None:
            await pool.stop()
        await client.close()
        await server.stop()
        server.cleanup()


def _p50(samples: Samples) -> float:
    value = samples.quantile(0.5)
    assert value is not None  # every round created ports
    return value


def _results(sizes: Sizes, without: list[Samples], with_agents: list[Samples]) -> list[Samples]:
    ratios = [_p50(w) / _p50(o) for o, w in zip(without, with_agents, strict=True)]
    rate = f"{sizes.under_push_rate:g}/s"
    out = []
    agents = sizes.under_push_agents
    for rows, count, name in (
        (without, 0, f"{LABEL}, no agents: port create at {rate}"),
        (with_agents, agents, f"{LABEL}, with agents: port create at {rate}, {agents} agents"),
    ):
        median = statistics.median(_p50(s) for s in rows)
        # The round whose p50 is the median stands for all (its latencies, its wall time).
        row = min(rows, key=lambda s: abs(_p50(s) - median))
        row.name = name
        row.extra = {
            "rounds": len(rows),
            "p50s_ms": [round(_p50(s) * 1000, 3) for s in rows],
            "agents": count,
        }
        out.append(row)
    out[1].extra["p50_ratios"] = [round(r, 3) for r in ratios]
    out[1].extra["p50_ratio"] = round(statistics.median(ratios), 3)
    return out
