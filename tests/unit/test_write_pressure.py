"""Back-pressure on SCIM writes (gateway/write_pressure.py): the limit's
additive-increase, multiplicative-decrease on the delivery lag, and the
admission of writes under it. Pure: the lag is given."""

from __future__ import annotations

import time

import pytest

from gateway.write_pressure import CUT, GROW, MAX_WAIT_SECONDS, MIN_RATE, WritePressure
from runtime.errors import ServiceError


async def _no_lag() -> float:
    return 0.0


async def _written(pressure: WritePressure, count: int) -> None:
    for _ in range(count):
        await pressure.admit()


async def test_writes_are_not_held_while_delivery_keeps_pace():
    pressure = WritePressure(1.0, _no_lag)
    await _written(pressure, 100)
    pressure.observe(0.2, 1.0)
    assert pressure.limit is None


async def test_a_lag_cuts_the_rate_holds_it_while_falling_and_lifts_it_once_caught_up():
    pressure = WritePressure(1.0, _no_lag)
    await _written(pressure, 200)
    pressure.observe(3.0, 1.0)  # behind: cut to CUT × the 200/s written
    assert pressure.limit == pytest.approx(CUT * 200)
    pressure.observe(2.0, 1.0)  # still behind, but catching up: held
    assert pressure.limit == pytest.approx(CUT * 200)
    pressure.observe(2.5, 1.0)  # behind, not falling, but nothing written to hold: as it is
    assert pressure.limit == pytest.approx(CUT * 200)
    await _written(pressure, 100)
    pressure.observe(3.0, 1.0)  # behind, not falling, writing: cut again
    assert pressure.limit == pytest.approx(max(MIN_RATE, CUT * 100))
    pressure.observe(0.2, 1.0)  # caught up: grows, and goes once it no longer binds (nothing written)
    assert pressure.limit is None


async def test_growth_is_gradual_while_the_limit_binds():
    pressure = WritePressure(1.0, _no_lag)
    await _written(pressure, 100)
    pressure.observe(5.0, 1.0)
    limit = pressure.limit
    pressure._written = int(limit)  # writes at the limit
    pressure.observe(0.1, 1.0)
    assert pressure.limit == pytest.approx(limit * GROW)


async def test_under_a_limit_writes_wait_their_turn_and_a_long_wait_is_a_429():
    pressure = WritePressure(1.0, _no_lag)
    pressure.limit = 100.0
    started = time.monotonic()
    await _written(pressure, 20)  # 20 writes at 100/s: about 0.2 s
    assert 0.1 < time.monotonic() - started < 2.0
    pressure.limit = MIN_RATE
    await pressure.admit(int(MIN_RATE * MAX_WAIT_SECONDS) + 1)  # starts now, books the next 2.2 s
    with pytest.raises(ServiceError) as refused:
        await pressure.admit()
    assert refused.value.reason == "RATE_LIMITED" and refused.value.retry_after_seconds >= 2


async def test_disabled_it_never_watches_nor_holds():
    pressure = WritePressure(0.0, _no_lag)
    await pressure.start()
    await _written(pressure, 1000)
    assert pressure.limit is None
    await pressure.stop()
