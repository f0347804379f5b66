"""TokenCache: bounded, time-limited entries."""

from __future__ import annotations

import pytest

from alcor.api.auth.token_cache import TokenCache


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entry_lives_until_its_deadline() -> None:
    """An entry is returned before its ttl has passed and dropped after."""
    clock = _Clock()
    cache: TokenCache[str] = TokenCache(10, clock)
    cache.put("k", "v", ttl_s=5)
    clock.now += 4.9
    assert cache.get("k") == "v"
    clock.now += 0.1
    assert cache.get("k") is None
    assert len(cache) == 0


def test_non_positive_ttl_stores_nothing_and_forgets_the_old_value() -> None:
    """put() with ttl <= 0 leaves no entry behind."""
    cache: TokenCache[str] = TokenCache(10, _Clock())
    cache.put("k", "old", ttl_s=5)
    cache.put("k", "new", ttl_s=0)
    assert cache.get("k") is None


def test_least_recently_used_entry_is_evicted() -> None:
    """Reading an entry keeps it; the oldest untouched one goes when full."""
    cache: TokenCache[int] = TokenCache(2, _Clock())
    cache.put("a", 1, 60)
    cache.put("b", 2, 60)
    assert cache.get("a") == 1
    cache.put("c", 3, 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_size_must_be_positive() -> None:
    """A cache that can hold nothing is a configuration mistake."""
    with pytest.raises(ValueError, match="at least 1"):
        TokenCache(0, _Clock())
