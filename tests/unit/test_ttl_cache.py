"""runtime/ttl_cache.py: kept for a while, read again after, and never keeps
what was read before the key was forgotten."""

import asyncio

from runtime.ttl_cache import TtlCache


class Source:
    def __init__(self) -> None:
        self.value, self.reads = 1, 0

    async def read(self) -> int:
        self.reads += 1
        return self.value


async def test_a_value_is_kept_for_its_seconds_then_read_again():
    source = Source()
    kept: TtlCache[str, int] = TtlCache(60)
    assert [await kept.get("k", source.read) for _ in range(3)] == [1, 1, 1] and source.reads == 1
    source.value = 2
    kept.forget("k")
    assert await kept.get("k", source.read) == 2
    expiring: TtlCache[str, int] = TtlCache(0)
    assert [await expiring.get("k", source.read) for _ in range(2)] == [2, 2] and source.reads == 4


async def test_a_read_that_began_before_a_forget_is_not_kept():
    """A change made (and forgotten) while a read of the old value is in flight."""
    started, release = asyncio.Event(), asyncio.Event()
    source = Source()

    async def slow_read() -> int:
        value = source.value
        started.set()
        await release.wait()
        return value

    kept: TtlCache[str, int] = TtlCache(60)
    in_flight = asyncio.create_task(kept.get("k", slow_read))
    await started.wait()
    source.value = 2
    kept.forget("k")
    release.set()
    assert await in_flight == 1  # the caller gets what it read…
    assert await kept.get("k", source.read) == 2  # …but it was not kept
