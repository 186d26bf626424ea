"""The supervisor's restart rules (cli/restarts.py), with a clock passed in."""

from cli.restarts import RestartPolicy


def test_delays_double_from_half_a_second_to_the_ceiling():
    policy = RestartPolicy()
    delays = [policy.next_delay(now=float(n), ran_for=0.1) for n in range(10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_a_stable_run_starts_the_backoff_afresh():
    policy = RestartPolicy()
    for n in range(4):
        policy.next_delay(now=float(n), ran_for=0.1)
    assert policy.next_delay(now=100.0, ran_for=45.0) == 0.5


def test_five_exits_within_a_minute_are_a_crash_loop():
    policy = RestartPolicy()
    for n in range(4):
        policy.next_delay(now=n * 10.0, ran_for=0.1)
        assert not policy.crash_looping
    policy.next_delay(now=40.0, ran_for=0.1)
    assert policy.crash_looping and policy.recent_exits() == 5


def test_exits_spread_over_more_than_a_minute_are_not_a_crash_loop():
    policy = RestartPolicy()
    for n in range(10):
        policy.next_delay(now=n * 20.0, ran_for=19.0)
    assert not policy.crash_looping
