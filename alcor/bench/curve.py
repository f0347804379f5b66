"""The e2e curve: send -> applied latency against the offered port-create rate.

For each agent count, reference agents in their own process are registered as nodes, and
ports are created open loop at each rate on a fresh network (every host of the network gets
each new port's neighbor state). Each point is one `e2e` measurement (e2e.measure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bench import e2e
from alcor.bench.client import Client
from alcor.bench.server import agent_block
from alcor.bench.stats import Samples


@dataclass(frozen=True)
class CurvePlan:
    """Agent counts, the offered rates for each, and how long each rate is offered."""

    rates: dict[int, tuple[float, ...]]
    seconds: float
    min_ports: int

    def ports(self, rate: float) -> int:
        """Return how many ports one point creates."""
        return max(self.min_ports, int(rate * self.seconds))


STANDARD = CurvePlan(
    {20: (50, 100, 200, 300, 400, 600), 100: (25, 50, 75, 100, 150, 200)}, 4.0, 100
)
QUICK = CurvePlan({8: (50, 100, 200), 20: (25, 50, 100)}, 2.0, 50)
TINY = CurvePlan({2: (20, 50)}, 0.2, 5)


async def run(
    client: Client, server: Any, plan: CurvePlan, transport: str, progress: Any
) -> list[Samples]:
    """Measure every point of the plan; return one row per (agents, rate)."""
    results: list[Samples] = []
    total = sum(len(r) for r in plan.rates.values())
    for k, (count, rates) in enumerate(plan.rates.items()):
        agents = e2e.AgentProcess(count, server.grpc_port, server.workdir, agent_block(10 + k))
        ips = await agents.start()
        try:
            hosts = await e2e.register(client, ips, transport, prefix=f"curve{count}-host")
            for rate in rates:
                net_id = await e2e.network(client, f"curve-{count}-{rate:g}")
                label = f"e2e curve, {count} agents, {rate:g} ports/s"
                samples = await e2e.measure(
                    client,
                    agents,
                    ips,
                    hosts,
                    net_id,
                    label,
                    plan.ports(rate),
                    rate,
                    e2e.server_pid(server),
                )
                samples.extra["offered_per_s"] = rate
                results.append(samples)
                progress("e2e curve", len(results), total)
        finally:
            await agents.stop()
    return results
