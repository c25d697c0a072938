"""Consistency levels: codes, block_for (notes A14), Unavailable, and the replicas a read contacts."""
import pytest

from cqlpy.cluster.consistency import (
    ConsistencyLevel as CL, assure_sufficient_live_replicas, block_for, block_for_write,
    each_quorum_block_for, is_sufficient, local_quorum_for, replicas_for_read, validate_for_read,
    validate_for_write)
from cqlpy.cluster.endpoints import Location
from cqlpy.cluster.replication import EverywhereStrategy, NetworkTopologyStrategy, SimpleStrategy
from cqlpy.errors import InvalidRequest, Unavailable
from cqlpy.protocol.frame import Consistency

from .ring_helpers import ep

RF3 = SimpleStrategy(3)
NTS33 = NetworkTopologyStrategy.of(dc1=3, dc2=3)
NTS52 = NetworkTopologyStrategy.of(dc1=5, dc2=2)
DC = {ep(i): Location("dc1" if i < 10 else "dc2", "rack1") for i in range(20)}
where = DC.__getitem__


def test_codes_match_the_native_protocol():
    assert {c.name: int(c) for c in CL} == {c.name: int(c) for c in Consistency}
    assert CL.of("local_quorum") is CL.LOCAL_QUORUM and CL.of(10) is CL.LOCAL_ONE and CL.of(CL.ALL) is CL.ALL
    with pytest.raises(InvalidRequest):
        CL.of("SOME")
    assert CL.LOCAL_SERIAL.is_datacenter_local and CL.LOCAL_SERIAL.is_serial
    assert not CL.QUORUM.is_datacenter_local and not CL.EACH_QUORUM.is_datacenter_local


@pytest.mark.parametrize("cl, strategy, local_dc, expected", [
    (CL.ANY, RF3, "dc1", 1), (CL.ONE, RF3, "dc1", 1), (CL.TWO, RF3, "dc1", 2), (CL.THREE, RF3, "dc1", 3),
    (CL.QUORUM, RF3, "dc1", 2), (CL.ALL, RF3, "dc1", 3), (CL.LOCAL_ONE, RF3, "dc1", 1),
    (CL.QUORUM, SimpleStrategy(1), "dc1", 1), (CL.QUORUM, SimpleStrategy(4), "dc1", 3),
    (CL.LOCAL_QUORUM, RF3, "dc1", 2), (CL.EACH_QUORUM, RF3, "dc1", 2), (CL.SERIAL, RF3, "dc1", 2),
    (CL.QUORUM, NTS33, "dc1", 4), (CL.LOCAL_QUORUM, NTS33, "dc1", 2), (CL.ALL, NTS33, "dc2", 6),
    (CL.EACH_QUORUM, NTS33, "dc1", 4), (CL.LOCAL_SERIAL, NTS33, "dc2", 2),
    (CL.QUORUM, NTS52, "dc1", 4), (CL.LOCAL_QUORUM, NTS52, "dc1", 3), (CL.LOCAL_QUORUM, NTS52, "dc2", 2),
    (CL.EACH_QUORUM, NTS52, "dc1", 5), (CL.LOCAL_QUORUM, NTS52, "dc9", 1),
])
def test_block_for(cl, strategy, local_dc, expected):
    assert block_for(cl, strategy, local_dc) == expected
    assert block_for(cl.name, strategy, local_dc) == expected


def test_block_for_helpers():
    assert each_quorum_block_for(NTS52) == {"dc1": 3, "dc2": 2}
    assert local_quorum_for(NTS52, "dc2") == 2 and local_quorum_for(RF3, "whatever") == 2
    with pytest.raises(ValueError):
        each_quorum_block_for(RF3)
    assert block_for(CL.ALL, EverywhereStrategy(), ring_size=5) == 5
    with pytest.raises(ValueError):
        block_for(CL.QUORUM, EverywhereStrategy())


def test_block_for_write_counts_pending_endpoints():
    pending = [ep(3), ep(12)]                      # one joiner in each DC
    assert block_for_write(CL.QUORUM, NTS33, "dc1", pending, where) == 6
    assert block_for_write(CL.LOCAL_QUORUM, NTS33, "dc1", pending, where) == 3
    assert block_for_write(CL.ONE, RF3, "dc1") == 1


def test_unavailable_carries_consistency_required_alive():
    with pytest.raises(Unavailable) as e:
        assure_sufficient_live_replicas(CL.QUORUM, RF3, [ep(1)])
    assert (e.value.consistency, e.value.required, e.value.alive) == ("QUORUM", 2, 1)
    assert str(e.value) == "Cannot achieve consistency level QUORUM"
    assert e.value.code == 0x1000
    assure_sufficient_live_replicas(CL.QUORUM, RF3, [ep(1), ep(2)])
    with pytest.raises(Unavailable) as e:
        assure_sufficient_live_replicas(CL.ALL, RF3, [ep(1), ep(2)])
    assert (e.value.required, e.value.alive) == (3, 2)


def test_any_never_unavailable_and_local_levels_count_the_local_dc():
    assure_sufficient_live_replicas(CL.ANY, RF3, [])
    live = [ep(1), ep(11), ep(12)]                 # one in dc1, two in dc2
    assert not is_sufficient(CL.LOCAL_QUORUM, NTS33, live, "dc1", where)
    assert is_sufficient(CL.LOCAL_QUORUM, NTS33, live, "dc2", where)
    assert is_sufficient(CL.LOCAL_ONE, NTS33, live, "dc1", where)
    assert not is_sufficient(CL.LOCAL_ONE, NTS33, [ep(11)], "dc1", where)
    with pytest.raises(Unavailable) as e:
        assure_sufficient_live_replicas(CL.LOCAL_QUORUM, NTS33, live, "dc1", where)
    assert (e.value.consistency, e.value.required, e.value.alive) == ("LOCAL_QUORUM", 2, 1)
    assert is_sufficient(CL.QUORUM, NTS33, live + [ep(2)], "dc1", where)


def test_each_quorum_checks_every_datacenter():
    live = [ep(1), ep(2), ep(3), ep(11)]
    with pytest.raises(Unavailable) as e:
        assure_sufficient_live_replicas(CL.EACH_QUORUM, NTS33, live, "dc1", where)
    assert str(e.value) == "Cannot achieve consistency level EACH_QUORUM in DC dc2"
    assert (e.value.required, e.value.alive) == (2, 1)
    assert is_sufficient(CL.EACH_QUORUM, NTS33, live + [ep(12)], "dc1", where)
    assert is_sufficient(CL.EACH_QUORUM, RF3, [ep(1), ep(2)])          # SimpleStrategy: QUORUM


def test_pending_endpoints_raise_the_bar():
    assert not is_sufficient(CL.QUORUM, RF3, [ep(1), ep(2)], pending=[ep(4)])
    assert is_sufficient(CL.QUORUM, RF3, [ep(1), ep(2), ep(4)], pending=[ep(4)])


def test_replicas_for_read():
    alive = lambda e: e not in (ep(2), ep(12))
    natural = [ep(1), ep(2), ep(3), ep(11), ep(12), ep(13)]          # proximity order from dc1
    assert replicas_for_read(CL.ONE, NTS33, natural, alive, "dc1", where) == (ep(1),)
    assert replicas_for_read(CL.QUORUM, NTS33, natural, alive, "dc1", where) == (ep(1), ep(3), ep(11), ep(13))
    assert replicas_for_read(CL.LOCAL_QUORUM, NTS33, natural, alive, "dc1", where) == (ep(1), ep(3))
    assert replicas_for_read(CL.LOCAL_ONE, NTS33, natural, alive, "dc1", where, extra=1) == (ep(1), ep(3))
    assert replicas_for_read(CL.EACH_QUORUM, NTS33, natural, alive, "dc1", where) == (
        ep(1), ep(3), ep(11), ep(13))
    assert replicas_for_read(CL.ALL, RF3, [ep(1), ep(2), ep(3)], lambda e: True) == (ep(1), ep(2), ep(3))
    with pytest.raises(Unavailable):
        replicas_for_read(CL.ALL, NTS33, natural, alive, "dc1", where)
    with pytest.raises(Unavailable):
        replicas_for_read(CL.LOCAL_QUORUM, NTS33, [ep(1), ep(11), ep(13)], alive, "dc1", where)


def test_level_validation_for_reads_and_writes():
    with pytest.raises(InvalidRequest, match="ANY ConsistencyLevel is only supported for writes"):
        validate_for_read(CL.ANY)
    with pytest.raises(InvalidRequest, match="conditional updates"):
        validate_for_write("SERIAL")
    assert validate_for_read("local_serial") is CL.LOCAL_SERIAL and validate_for_write(0) is CL.ANY
