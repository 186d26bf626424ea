"""TenantSlots: a bound per tenant, waiters served in turn, nothing leaked."""

import asyncio

import pytest

from runtime.fairness import TenantSlots


def test_try_take_bounds_each_tenant_separately():
    slots = TenantSlots(2)
    assert slots.try_take("a") and slots.try_take("a") and not slots.try_take("a")
    assert slots.try_take("b")
    slots.give_back("a")
    assert slots.try_take("a")


async def test_waiters_get_slots_in_turn_and_a_cancelled_waiter_leaks_none():
    slots = TenantSlots(1)
    order = []

    async def work(name: str) -> None:
        async with slots.slot("a"):
            order.append(name)
            await asyncio.sleep(0)

    await slots.take("a")
    tasks = [asyncio.create_task(work(n)) for n in ("first", "second", "third")]
    await asyncio.sleep(0)
    tasks[1].cancel()
    slots.give_back("a")
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["first", "third"]
    assert slots.in_use("a") == 0 and not slots._waiters and not slots._in_use


@pytest.mark.parametrize("limit", [0, -1])
def test_no_limit_when_not_positive(limit):
    slots = TenantSlots(limit)
    assert all(slots.try_take("a") for _ in range(1000))


def test_a_tenant_alone_may_use_more_until_another_shows_up():
    slots = TenantSlots(1, alone_limit=3)
    assert slots.try_take("a") and slots.try_take("a") and slots.try_take("a") and not slots.try_take("a")
    assert slots.try_take("b")  # b is bounded by 1, and from now on so is a
    assert not slots.try_take("b")
    slots.give_back("a")
    slots.give_back("a")
    assert not slots.try_take("a")  # a holds 1: its bound while b is active
    slots.give_back("a")
    assert slots.try_take("a")


async def test_a_waiter_over_the_bound_is_not_handed_a_slot():
    slots = TenantSlots(1, alone_limit=2)
    assert slots.try_take("a") and slots.try_take("a")
    waiting = asyncio.create_task(slots.take("a"))
    await asyncio.sleep(0)
    assert slots.try_take("b")  # another tenant: a's bound drops to 1
    slots.give_back("a")  # a holds 1 now; its waiter may not have the slot
    await asyncio.sleep(0)
    assert not waiting.done()
    slots.give_back("a")
    await asyncio.wait_for(waiting, 5)
    assert slots.in_use("a") == 1
