"""Snitches: rackdc properties parsing, node options, defaults, gossip-learnt peers, proximity order."""
import pytest

from cqlpy.cluster.endpoints import Location
from cqlpy.cluster.snitch import (
    GossipingPropertyFileSnitch, SimpleSnitch, parse_properties, sorted_by_proximity)
from cqlpy.errors import ConfigurationException

from .ring_helpers import ep

RACKDC = """\
# These properties are used with GossipingPropertyFileSnitch
dc=dc1
rack = rack7
! another comment style

# prefer_local=false
prefer_local: true
unknown_key=ignored
"""


def test_parse_properties_java_style():
    props = parse_properties(RACKDC + "long=a\\\n   b\nspaced value\n")
    assert props["dc"] == "dc1" and props["rack"] == "rack7" and props["prefer_local"] == "true"
    assert props["unknown_key"] == "ignored" and props["long"] == "ab" and props["spaced"] == "value"
    assert "# prefer_local" not in props


def test_snitch_from_properties_text_and_file(tmp_path):
    s = GossipingPropertyFileSnitch.from_properties(RACKDC, local=ep(0))
    assert s.local_location() == Location("dc1", "rack7") and s.prefer_local
    assert s.location(ep(0)) == Location("dc1", "rack7")
    path = tmp_path / "cassandra-rackdc.properties"
    path.write_text("dc=east\nrack=r2\ndc_suffix=_ssd\n")
    s = GossipingPropertyFileSnitch.from_file(path, local=ep(0))
    assert s.datacenter(ep(0)) == "east_ssd" and s.rack(ep(0)) == "r2" and not s.prefer_local
    with pytest.raises(ConfigurationException, match="Unable to read"):
        GossipingPropertyFileSnitch.from_file(tmp_path / "missing.properties")
    s = GossipingPropertyFileSnitch.from_options({"rackdc_file": str(path)}, local=ep(0))
    assert s.local_location() == Location("east_ssd", "r2")


def test_defaults_and_options():
    s = GossipingPropertyFileSnitch.from_properties("", local=ep(0))
    assert s.local_location() == Location("datacenter1", "rack1")
    s = GossipingPropertyFileSnitch.from_options({"dc": "dc2", "rack": "rA", "prefer_local": "TRUE"}, ep(0))
    assert s.local_location() == Location("dc2", "rA") and s.prefer_local
    s = GossipingPropertyFileSnitch.from_options({"datacenter": "dc3"}, ep(0))
    assert s.local_location() == Location("dc3", "rack1")
    with pytest.raises(ConfigurationException):
        GossipingPropertyFileSnitch(ep(0), dc=" ", rack="r")
    simple = SimpleSnitch(ep(0))
    assert simple.location(ep(5)) == Location("datacenter1", "rack1") == simple.local_location()
    assert simple.datacenter(ep(5)) == "datacenter1" and simple.rack(ep(5)) == "rack1"


def test_peers_learnt_from_gossip():
    s = GossipingPropertyFileSnitch(ep(0), "dc1", "r1")
    assert s.location(ep(1)) == Location("datacenter1", "rack1")      # not heard of yet
    assert s.learn(ep(1), "dc2", "r3") and not s.learn(ep(1), "dc2", "r3")
    assert s.location(ep(1)) == Location("dc2", "r3")
    s.forget(ep(1))
    assert s.location(ep(1)) == Location("datacenter1", "rack1")


def test_sorted_by_proximity():
    s = GossipingPropertyFileSnitch(ep(0), "dc1", "r1")
    s.learn(ep(1), "dc2", "r1")
    s.learn(ep(2), "dc1", "r2")
    s.learn(ep(3), "dc1", "r1")
    s.learn(ep(4), "dc1", "r2")
    assert s.sorted_by_proximity([ep(1), ep(2), ep(3), ep(0), ep(4)]) == [ep(0), ep(3), ep(2), ep(4), ep(1)]
    assert SimpleSnitch(ep(2)).sorted_by_proximity([ep(1), ep(2), ep(3)]) == [ep(2), ep(1), ep(3)]
    assert sorted_by_proximity(s, None, [ep(1), ep(3)]) == [ep(3), ep(1)]
