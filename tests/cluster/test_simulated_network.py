"""The simulated network: fake-clock scheduling, seeded drops and delays, partitions, node restarts."""
from __future__ import annotations

import pytest

from cqlpy.cluster.endpoints import Endpoint
from cqlpy.cluster.messaging import RequestFailureReason, Verb
from cqlpy.cluster.simulated_network import LinkConfig, Scheduler, SimulatedNetwork

A, B, C = (Endpoint.of(f"127.0.0.{i}") for i in (1, 2, 3))


def test_scheduler_runs_events_in_time_then_insertion_order():
    s = Scheduler()
    ran = []
    s.call_later(2.0, ran.append, "c")
    s.call_later(1.0, ran.append, "a")
    s.call_later(1.0, ran.append, "b")
    cancelled = s.call_later(1.5, ran.append, "x")
    cancelled.cancel()
    s.run_until(1.0)
    assert ran == ["a", "b"] and s.time() == 1.0
    s.advance(5.0)
    assert ran == ["a", "b", "c"] and s.time() == 6.0
    assert s.pending() == 0 and s.step() is False


def test_scheduler_events_can_schedule_more_events():
    s = Scheduler()
    ticks = []

    def tick():
        ticks.append(s.time())
        if len(ticks) < 5:
            s.call_later(1.0, tick)
    s.call_soon(tick)
    s.advance(10.0)
    assert ticks == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert s.run_until_true(lambda: s.time() >= 12.0, timeout=5.0)
    assert not s.run_until_true(lambda: False, timeout=1.0)


def make(seed=0, **kwargs):
    net = SimulatedNetwork(seed=seed, **kwargs)
    services = {ep: net.create(ep) for ep in (A, B, C)}
    return net, services


def test_request_response_and_timeouts_on_the_fake_clock():
    net, s = make()
    s[B].register_handler(Verb.ECHO_REQ, lambda m: s[B].respond(m, "hi"))
    s[C].register_handler(Verb.ECHO_REQ, lambda m: None)
    answers, failures = [], []
    s[A].send_with_callback(B, Verb.ECHO_REQ, None, lambda m: answers.append((net.scheduler.time(), m)))
    s[A].send_with_callback(C, Verb.ECHO_REQ, None, lambda m: None,
                            lambda ep, reason, detail: failures.append((net.scheduler.time(), ep, reason)),
                            timeout=3.0)
    net.scheduler.advance(1.0)
    assert len(answers) == 1 and answers[0][1].payload == "hi" and answers[0][1].sender == B
    assert answers[0][0] == pytest.approx(0.002)          # two 1 ms hops
    assert failures == []
    net.scheduler.advance(5.0)
    assert failures == [(3.0, C, RequestFailureReason.TIMEOUT)]
    assert s[A].pending_requests == 0


def test_drops_are_seeded_and_deterministic():
    def delivered(seed):
        net, s = make(seed, default=LinkConfig(drop=0.3))
        got = []
        s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m.payload))
        for i in range(1000):
            s[A].send(B, Verb.MUTATION_REQ, i)
        net.scheduler.advance(1.0)
        return got
    first, again, other = delivered(7), delivered(7), delivered(8)
    assert first == again and first != other
    assert 600 < len(first) < 800
    assert first == sorted(first)                         # survivors keep their order


def test_delays_keep_links_fifo():
    net, s = make(3)
    net.set_link(A, B, delay=(0.01, 0.5))
    got = []
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append((net.scheduler.time(), m.payload)))
    for i in range(50):
        s[A].send(B, Verb.MUTATION_REQ, i)
    net.scheduler.advance(0.005)
    assert got == []
    net.scheduler.advance(1.0)
    assert [p for _, p in got] == list(range(50))
    times = [t for t, _ in got]
    assert times == sorted(times) and times[-1] <= 0.5


def test_partition_blocks_both_ways_and_heal_restores():
    net, s = make()
    got = {ep: [] for ep in (A, B, C)}
    for ep in (A, B, C):
        s[ep].register_handler(Verb.MUTATION_REQ, lambda m, ep=ep: got[ep].append(m.sender))
    net.partition([A], [B, C])
    for x, y in ((A, B), (B, A), (A, C), (B, C)):
        s[x].send(y, Verb.MUTATION_REQ, None)
    net.scheduler.advance(1.0)
    assert got == {A: [], B: [], C: [B]}
    net.heal()
    s[A].send(B, Verb.MUTATION_REQ, None)
    net.scheduler.advance(1.0)
    assert got[B] == [A]


def test_partition_cuts_messages_in_flight():
    net, s = make()
    net.set_link(A, B, delay=(1.0, 1.0))
    got = []
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m.payload))
    s[A].send(B, Verb.MUTATION_REQ, 1)
    net.block(A, B)
    net.scheduler.advance(2.0)
    assert got == [] and net.dropped == 1


def test_one_way_block():
    net, s = make()
    got = []
    for ep in (A, B):
        s[ep].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m.sender))
    net.block(A, B)
    s[A].send(B, Verb.MUTATION_REQ, None)
    s[B].send(A, Verb.MUTATION_REQ, None)
    net.scheduler.advance(1.0)
    assert got == [B]


def test_stop_and_restart_a_node():
    net, s = make()
    s[B].register_handler(Verb.ECHO_REQ, lambda m: s[B].respond(m))
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: None)
    net.set_link(A, B, delay=(0.5, 0.5))
    failures = []
    s[A].send_with_callback(B, Verb.ECHO_REQ, None, lambda m: pytest.fail("answered"),
                            lambda ep, reason, detail: failures.append(reason), timeout=2.0)
    net.scheduler.advance(0.1)
    net.stop(B)                                  # the request in flight is lost with the node
    assert not net.is_up(B)
    net.scheduler.advance(3.0)
    assert failures == [RequestFailureReason.TIMEOUT]
    with pytest.raises(ValueError):
        net.create(A)                            # A is still running
    b2 = net.restart(B)
    assert b2 is not s[B] and b2.incarnation == 2 and net.is_up(B)
    answers = []
    s[A].send_with_callback(B, Verb.ECHO_REQ, None, answers.append,
                            lambda *args: failures.append(args[1]))
    net.scheduler.advance(3.0)
    assert answers == [] and failures[-1] is RequestFailureReason.UNKNOWN   # no handler yet
    b2.register_handler(Verb.ECHO_REQ, lambda m: b2.respond(m, "back"))
    s[A].send_with_callback(B, Verb.ECHO_REQ, None, answers.append)
    net.scheduler.advance(3.0)
    assert [m.payload for m in answers] == ["back"]


def test_a_stopped_node_cannot_send():
    net, s = make()
    got = []
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m))
    s[A].close()
    s[A].send(B, Verb.MUTATION_REQ, None)
    net.scheduler.advance(1.0)
    assert got == [] and not net.is_up(A)


def test_filters_see_and_drop_messages():
    net, s = make()
    got, seen = [], []
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m.payload))
    s[B].register_handler(Verb.READ_REQ, lambda m: got.append(m.payload))

    def no_mutations(sender, to, message):
        seen.append((sender, to, message.verb))
        return message.verb is not Verb.MUTATION_REQ
    f = net.add_filter(no_mutations)
    s[A].send(B, Verb.MUTATION_REQ, "m")
    s[A].send(B, Verb.READ_REQ, "r")
    net.scheduler.advance(1.0)
    assert got == ["r"] and seen[0] == (A, B, Verb.MUTATION_REQ)
    net.remove_filter(f)
    s[A].send(B, Verb.MUTATION_REQ, "m2")
    net.scheduler.advance(1.0)
    assert got == ["r", "m2"]


def test_payloads_go_through_the_frame_codec():
    net, s = make()
    with pytest.raises(TypeError):
        s[A].send(B, Verb.MUTATION_REQ, {1, 2})
    got = []
    s[B].register_handler(Verb.MUTATION_REQ, lambda m: got.append(m.payload))
    s[A].send(B, Verb.MUTATION_REQ, (1, b"x"))
    net.scheduler.advance(1.0)
    assert got == [[1, b"x"]]                    # tuples come back as lists, as over TCP
