"""The token bucket behind per-connection rate limiting."""

from gateway.rate_limit import RateLimiter, retry_after_seconds


def test_burst_then_refusal_with_a_wait():
    limiter = RateLimiter(default_per_second=10)
    assert all(limiter.take("c", 0) == 0 for _ in range(20))  # two seconds' worth
    wait = limiter.take("c", 0)
    assert 0 < wait <= 0.1 + 1e-9
    assert retry_after_seconds(wait) == 1


def test_connections_are_independent_and_may_set_their_own_rate():
    limiter = RateLimiter(default_per_second=1)
    assert limiter.take("a", 0) == 0 and limiter.take("a", 0) == 0 and limiter.take("a", 0) > 0
    assert limiter.take("b", 0) == 0
    assert all(limiter.take("fast", 1000) == 0 for _ in range(2000))


def test_a_cost_above_the_burst_is_allowed_once_the_bucket_is_full():
    limiter = RateLimiter(default_per_second=1)
    assert limiter.take("bulk", 0, cost=50) == 0
    assert limiter.take("bulk", 0, cost=50) > 0


def test_disabled_when_the_default_is_not_positive():
    limiter = RateLimiter(default_per_second=0)
    assert all(limiter.take("c", 0) == 0 for _ in range(10_000))


def test_a_cost_above_the_burst_leaves_a_debt_paid_before_the_next_request():
    """Issue 16: a 50-operation Bulk at 1/s must cost 50 seconds, not the bucket's 2."""
    limiter = RateLimiter(default_per_second=1)
    assert limiter.take("bulk", 0, cost=50) == 0
    assert limiter.take("bulk", 0) >= 48
