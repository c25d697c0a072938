"""Phi accrual: phi values for known intervals, ~18.4 s conviction at a 1 s mean, pause suppression."""
from __future__ import annotations

import math

import pytest

from cqlpy.cluster.failure_detector import PHI_FACTOR, ArrivalWindow, FailureDetector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**kwargs):
    clock = Clock()
    fd = FailureDetector(clock, **kwargs)
    convicted: list[tuple[str, float]] = []
    fd.register(lambda ep, phi: convicted.append((ep, phi)))
    return clock, fd, convicted


def test_first_arrival_records_the_initial_interval():
    window = ArrivalWindow()
    window.add(10.0)
    assert window.mean() == pytest.approx(2.0)
    window.add(11.0)
    assert list(window.intervals) == [2.0, 1.0]
    assert window.phi(14.0) == pytest.approx(3.0 / 1.5)


def test_intervals_longer_than_the_maximum_are_ignored():
    window = ArrivalWindow(max_interval=2.0)
    for t in (0.0, 1.0, 2.0, 10.0, 11.0):
        window.add(t)
    assert list(window.intervals) == [2.0, 1.0, 1.0, 1.0]     # the 8 s gap is not recorded
    assert window.last == 11.0


def test_window_keeps_the_last_1000_samples():
    window = ArrivalWindow(size=1000)
    for t in range(1500):
        window.add(float(t) * 0.5)
    assert len(window.intervals) == 1000
    assert window.mean() == pytest.approx(0.5)
    assert window.total == pytest.approx(500.0)


def test_phi_for_known_intervals():
    clock, fd, _ = make()
    for _ in range(4):                 # intervals: 2.0 (initial), 1, 1, 1 -> mean 1.25
        fd.report("a")
        clock.now += 1.0
    clock.now -= 1.0
    assert fd.mean_interval("a") == pytest.approx(1.25)
    clock.now += 2.5
    assert fd.phi("a") == pytest.approx(PHI_FACTOR * 2.5 / 1.25)
    assert fd.phi("unknown") == 0.0


@pytest.mark.parametrize("threshold, expected", [(8.0, 8 * math.log(10)), (5.0, 5 * math.log(10)),
                                                 (12.0, 12 * math.log(10))])
def test_conviction_time_at_a_one_second_mean(threshold, expected):
    clock, fd, convicted = make(phi_convict_threshold=threshold)
    for _ in range(1001):              # the 2 s initial sample has left the window: mean is exactly 1
        fd.report("a")
        clock.now += 1.0
    clock.now -= 1.0
    last = clock.now
    assert fd.mean_interval("a") == pytest.approx(1.0)
    while not convicted:
        clock.now += 0.1
        fd.interpret("a")
        assert clock.now - last < 60
    assert clock.now - last == pytest.approx(expected, abs=0.11)
    assert convicted[0][0] == "a"
    if threshold == 8.0:
        assert 18.3 < clock.now - last < 18.6


def test_default_threshold_is_eight_and_is_alive_follows_phi():
    clock, fd, _ = make()
    assert fd.phi_convict_threshold == 8.0
    assert not fd.is_alive("a")
    for _ in range(10):
        fd.report("a")
        clock.now += 1.0
    assert fd.is_alive("a")
    clock.now += 30.0
    assert not fd.is_alive("a")


def test_interpret_of_an_unknown_endpoint_does_nothing():
    _, fd, convicted = make()
    assert fd.interpret("nobody") is False
    assert convicted == []


def test_local_pause_suppresses_convictions():
    clock, fd, convicted = make()
    for _ in range(20):
        fd.report("a")
        clock.now += 1.0
        fd.interpret("a")
    clock.now += 30.0                  # this process was paused for 30 s
    assert fd.interpret("a") is False  # gap since the last interpret > 5 s: a pause, not a failure
    for _ in range(4):                 # still within 5 s of the pause
        clock.now += 1.0
        assert fd.interpret("a") is False
    assert convicted == []
    clock.now += 1.5
    assert fd.interpret("a") is True   # now the silence counts
    assert convicted and convicted[0][0] == "a"


def test_regular_interprets_do_not_count_as_a_pause():
    clock, fd, convicted = make()
    fd.report("a")
    for _ in range(100):
        clock.now += 1.0
        fd.interpret("a")
    assert convicted                   # 2 s initial mean: convicted after ~36.8 s of silence


def test_remove_and_force_conviction():
    clock, fd, convicted = make()
    fd.report("a")
    fd.force_conviction("a")
    assert convicted[-1] == ("a", math.inf)
    fd.remove("a")
    assert fd.endpoints() == []
    assert fd.dump() == {}
