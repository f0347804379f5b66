"""Fixtures of the chaos suite: a seeded random generator and a cluster factory."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.chaos.cluster import Cluster

MakeCluster = Callable[..., Awaitable[Cluster]]


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The run's seed: $CHAOS_SEED to replay one, else a fresh one (printed either way)."""
    value = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(
        f"chaos seed {value} (replay: CHAOS_SEED={value} python -m pytest '{request.node.nodeid}' -m chaos)"
    )
    return value


@pytest.fixture
def rng(seed: int) -> random.Random:
    """A random generator seeded with the run's seed: every choice of a scenario uses it."""
    return random.Random(seed)


@pytest.fixture
async def make_cluster(tmp_path: Path, seed: int) -> AsyncIterator[MakeCluster]:
    """Return a starter of clusters: `await make_cluster(["grpc", "kafka"], kafka=..., **settings)`.

    Every process a cluster started is killed at the end of the test.
    """
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    clusters: list[Cluster] = []

    async def start(
        transports: list[str], kafka: str | None = None, settings: dict[str, Any] | None = None
    ) -> Cluster:
        workdir = tmp_path / f"cluster-{len(clusters)}"
        workdir.mkdir()
        cluster = Cluster(workdir, session, seed, kafka=kafka, settings=settings)
        clusters.append(cluster)
        await cluster.start(transports)
        return cluster

    try:
        yield start
    finally:
        for cluster in clusters:
            cluster.close()
        await session.close()
