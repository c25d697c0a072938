"""TokenMetadata: the ring as this node knows it — tokens to endpoints, topology, and pending changes.

Cassandra's ``locator.TokenMetadata`` in small:

- **normal tokens**: ``token -> Endpoint`` for members that own data now, kept as a sorted list
  (``sorted_tokens``) plus a parallel tuple of owners, so a lookup is one ``bisect``;
- **topology**: ``Endpoint -> Location(dc, rack)``, and the DC/rack groupings placement needs;
- **pending changes**, kept apart from the normal ring: tokens of bootstrapping endpoints and the
  set of leaving endpoints.  ``clone_after_all_settled()`` is the ring once they finish, which is what
  replication.pending_ranges compares with the current ring to find the ranges to stream.

Every mutation bumps ``ring_version`` and drops the derived caches (``cached``): replica maps are
built once per (ring version, strategy) and looked up with token + bisect.  Not thread-safe on its
own; the node mutates it from the event loop.
"""
from __future__ import annotations

import bisect
from typing import Callable, Iterable, Iterator, TypeVar

from .endpoints import DEFAULT_LOCATION, Endpoint, Location
from .partitioner import MIN_TOKEN, MAX_TOKEN, TokenRange

T = TypeVar("T")


class TokenMetadata:
    """Sorted tokens -> owner endpoints, endpoint locations, bootstrapping tokens, leaving endpoints."""

    def __init__(self) -> None:
        self._token_to_endpoint: dict[int, Endpoint] = {}
        self._endpoint_tokens: dict[Endpoint, list[int]] = {}
        self._locations: dict[Endpoint, Location] = {}
        self._bootstrap_tokens: dict[int, Endpoint] = {}
        self._leaving: set[Endpoint] = set()
        self._sorted: list[int] = []
        self._owners: tuple[Endpoint, ...] = ()
        self._cache: dict[object, object] = {}
        self.ring_version = 0

    # --- mutation --------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._sorted = sorted(self._token_to_endpoint)
        self._owners = tuple(self._token_to_endpoint[t] for t in self._sorted)
        self._cache.clear()
        self.ring_version += 1

    def update_topology(self, endpoint: Endpoint, location: Location | tuple[str, str]) -> None:
        """Record (or move) an endpoint's datacenter and rack."""
        location = Location(*location)
        if self._locations.get(endpoint) != location:
            self._locations[endpoint] = location
            self._cache.clear()
            self.ring_version += 1

    def update_normal_tokens(self, endpoint: Endpoint, tokens: Iterable[int],
                             location: Location | tuple[str, str] | None = None) -> None:
        """Make ``endpoint`` a normal member owning exactly ``tokens`` (Cassandra's updateNormalTokens).

        A token already owned by another endpoint moves to this one (the newer claim wins, as when a
        node replaces another).  The endpoint stops being bootstrapping or leaving."""
        tokens = [_check_token(t) for t in tokens]
        if not tokens:
            raise ValueError(f"{endpoint} must own at least one token")
        if location is not None:
            self._locations[endpoint] = Location(*location)
        self._locations.setdefault(endpoint, DEFAULT_LOCATION)
        for t in self._endpoint_tokens.pop(endpoint, ()):
            del self._token_to_endpoint[t]
        for t in [t for t, e in self._bootstrap_tokens.items() if e == endpoint]:
            del self._bootstrap_tokens[t]
        self._leaving.discard(endpoint)
        for t in tokens:
            old = self._token_to_endpoint.get(t)
            if old is not None and old != endpoint:
                self._endpoint_tokens[old].remove(t)
                if not self._endpoint_tokens[old]:
                    del self._endpoint_tokens[old]
            self._token_to_endpoint[t] = endpoint
            self._bootstrap_tokens.pop(t, None)
        self._endpoint_tokens[endpoint] = sorted(set(tokens))
        self._changed()

    def add_bootstrap_tokens(self, endpoint: Endpoint, tokens: Iterable[int],
                             location: Location | tuple[str, str] | None = None) -> None:
        """``endpoint`` is joining and will own ``tokens``; they stay out of the normal ring until
        update_normal_tokens.  A token owned by another member or joiner is refused."""
        tokens = [_check_token(t) for t in tokens]
        for t in tokens:
            owner = self._token_to_endpoint.get(t) or self._bootstrap_tokens.get(t)
            if owner is not None and owner != endpoint:
                raise ValueError(f"Bootstrap token collision between {owner} and {endpoint} "
                                 f"(token {t})")
        if location is not None:
            self._locations[endpoint] = Location(*location)
        self._locations.setdefault(endpoint, DEFAULT_LOCATION)
        for t in [t for t, e in self._bootstrap_tokens.items() if e == endpoint]:
            del self._bootstrap_tokens[t]
        for t in tokens:
            self._bootstrap_tokens[t] = endpoint
        self._cache.clear()
        self.ring_version += 1

    def add_leaving_endpoint(self, endpoint: Endpoint) -> None:
        """``endpoint`` is decommissioning: it still owns its tokens until remove_endpoint."""
        if endpoint not in self._endpoint_tokens:
            raise ValueError(f"{endpoint} is not a member of the ring")
        self._leaving.add(endpoint)
        self._cache.clear()
        self.ring_version += 1

    def remove_endpoint(self, endpoint: Endpoint) -> None:
        """Forget an endpoint: its tokens, pending tokens, leaving mark and location."""
        for t in self._endpoint_tokens.pop(endpoint, ()):
            del self._token_to_endpoint[t]
        for t in [t for t, e in self._bootstrap_tokens.items() if e == endpoint]:
            del self._bootstrap_tokens[t]
        self._leaving.discard(endpoint)
        self._locations.pop(endpoint, None)
        self._changed()

    # --- the normal ring -------------------------------------------------------------------------

    def sorted_tokens(self) -> list[int]:
        """All normal tokens, ascending (do not mutate the returned list)."""
        return self._sorted

    def owners(self) -> tuple[Endpoint, ...]:
        """Owner of each token of ``sorted_tokens()``, index for index."""
        return self._owners

    def endpoint_for(self, token: int) -> Endpoint | None:
        """The endpoint that owns exactly this token, if any (Cassandra's getEndpoint)."""
        return self._token_to_endpoint.get(token)

    def tokens_of(self, endpoint: Endpoint) -> list[int]:
        return list(self._endpoint_tokens.get(endpoint, ()))

    def is_member(self, endpoint: Endpoint) -> bool:
        return endpoint in self._endpoint_tokens

    def endpoints(self) -> list[Endpoint]:
        """Normal members, sorted."""
        return sorted(self._endpoint_tokens)

    def endpoint_by_host_id(self, host_id) -> Endpoint | None:
        for e in self._locations:
            if e.host_id == host_id:
                return e
        return None

    def __len__(self) -> int:
        return len(self._sorted)

    def first_token_index(self, token: int) -> int:
        """Index of the first token >= ``token``, wrapping to 0 (Cassandra's firstTokenIndex)."""
        if not self._sorted:
            raise LookupError("The ring has no tokens")
        i = bisect.bisect_left(self._sorted, token)
        return 0 if i == len(self._sorted) else i

    def first_token(self, token: int) -> int:
        return self._sorted[self.first_token_index(token)]

    def primary_endpoint(self, token: int) -> Endpoint:
        """The owner of the first token >= ``token`` (the first replica under any strategy)."""
        return self._owners[self.first_token_index(token)]

    def ring_iterator(self, token: int) -> Iterator[tuple[int, Endpoint]]:
        """(token, owner) clockwise from the first token >= ``token``, once round the ring."""
        start = self.first_token_index(token)
        n = len(self._sorted)
        for k in range(n):
            i = (start + k) % n
            yield self._sorted[i], self._owners[i]

    def predecessor(self, token: int) -> int:
        """The token before ``token`` (which must be in the ring), wrapping."""
        i = bisect.bisect_left(self._sorted, token)
        if i == len(self._sorted) or self._sorted[i] != token:
            raise LookupError(f"{token} is not a token of the ring")
        return self._sorted[i - 1]

    def primary_range(self, token: int) -> TokenRange:
        """(predecessor, token]: the range a token owns before replication."""
        return TokenRange(self.predecessor(token), token)

    def primary_ranges(self, endpoint: Endpoint) -> list[TokenRange]:
        """The ranges an endpoint owns as first replica (nodetool's 'primary range')."""
        return [self.primary_range(t) for t in self._endpoint_tokens.get(endpoint, ())]

    def ownership(self) -> dict[Endpoint, float]:
        """Each member's share of the ring as first replica (fractions sum to 1)."""
        out: dict[Endpoint, float] = {e: 0.0 for e in self._endpoint_tokens}
        n = len(self._sorted)
        if n == 1:
            return {self._owners[0]: 1.0}
        for i in range(n):
            out[self._owners[i]] += ((self._sorted[i] - self._sorted[i - 1]) % (1 << 64)) / (1 << 64)
        return out

    # --- topology --------------------------------------------------------------------------------

    def location(self, endpoint: Endpoint) -> Location:
        return self._locations.get(endpoint, DEFAULT_LOCATION)

    def datacenter(self, endpoint: Endpoint) -> str:
        return self.location(endpoint).datacenter

    def rack(self, endpoint: Endpoint) -> str:
        return self.location(endpoint).rack

    def datacenter_endpoints(self) -> dict[str, set[Endpoint]]:
        """dc -> normal members in it (Cassandra's Topology.getDatacenterEndpoints)."""
        return self.cached(("dc_endpoints",), self._build_dc_endpoints)

    def datacenter_racks(self) -> dict[str, dict[str, set[Endpoint]]]:
        """dc -> rack -> normal members in it (Topology.getDatacenterRacks)."""
        return self.cached(("dc_racks",), self._build_dc_racks)

    def _build_dc_endpoints(self) -> dict[str, set[Endpoint]]:
        out: dict[str, set[Endpoint]] = {}
        for e in self._endpoint_tokens:
            out.setdefault(self.datacenter(e), set()).add(e)
        return out

    def _build_dc_racks(self) -> dict[str, dict[str, set[Endpoint]]]:
        out: dict[str, dict[str, set[Endpoint]]] = {}
        for e in self._endpoint_tokens:
            dc, rack = self.location(e)
            out.setdefault(dc, {}).setdefault(rack, set()).add(e)
        return out

    def known_datacenters(self) -> set[str]:
        """Datacenters of every endpoint with a location (members, joiners)."""
        return {loc.datacenter for loc in self._locations.values()}

    # --- pending changes -------------------------------------------------------------------------

    def bootstrap_tokens(self) -> dict[int, Endpoint]:
        return dict(self._bootstrap_tokens)

    def bootstrapping_endpoints(self) -> set[Endpoint]:
        return set(self._bootstrap_tokens.values())

    def leaving_endpoints(self) -> set[Endpoint]:
        return set(self._leaving)

    def has_pending_changes(self) -> bool:
        return bool(self._bootstrap_tokens or self._leaving)

    def clone(self) -> "TokenMetadata":
        tm = TokenMetadata()
        tm._token_to_endpoint = dict(self._token_to_endpoint)
        tm._endpoint_tokens = {e: list(ts) for e, ts in self._endpoint_tokens.items()}
        tm._locations = dict(self._locations)
        tm._bootstrap_tokens = dict(self._bootstrap_tokens)
        tm._leaving = set(self._leaving)
        tm._sorted = list(self._sorted)
        tm._owners = self._owners
        return tm

    def clone_only_token_map(self) -> "TokenMetadata":
        """The normal ring and topology, without pending changes."""
        tm = self.clone()
        tm._bootstrap_tokens.clear()
        tm._leaving.clear()
        return tm

    def clone_after_all_left(self) -> "TokenMetadata":
        """The normal ring as it will be once every leaving endpoint has gone."""
        tm = self.clone_only_token_map()
        for e in self._leaving:
            tm.remove_endpoint(e)
        return tm

    def clone_after_all_settled(self) -> "TokenMetadata":
        """The ring once every joiner owns its tokens and every leaver has gone."""
        tm = self.clone_after_all_left()
        joiners: dict[Endpoint, list[int]] = {}
        for t, e in self._bootstrap_tokens.items():
            joiners.setdefault(e, []).append(t)
        for e, tokens in joiners.items():
            tm.update_normal_tokens(e, tokens, self.location(e))
        return tm

    # --- derived caches --------------------------------------------------------------------------

    def cached(self, key: object, build: Callable[[], T]) -> T:
        """A value derived from this ring (replica maps, groupings), rebuilt after any change."""
        try:
            return self._cache[key]  # type: ignore[return-value]
        except KeyError:
            value = self._cache[key] = build()
            return value

    def __repr__(self) -> str:
        return (f"TokenMetadata({len(self._endpoint_tokens)} endpoints, {len(self._sorted)} tokens, "
                f"{len(self._bootstrap_tokens)} bootstrapping, {len(self._leaving)} leaving)")


def _check_token(t: int) -> int:
    if not isinstance(t, int) or isinstance(t, bool) or not MIN_TOKEN <= t <= MAX_TOKEN:
        raise ValueError(f"Invalid Murmur3 token {t!r}")
    return t
