"""Cluster quorum and datacenter activation coordination (docs/active-manager.md#quorum-and-the-witness).

A pure module: no SimPy, no topology, no clock. The caller hands in snapshots (who is in
the cluster, who is running, who can talk to whom) and gets answers back.

Quorum (the Windows failover cluster under the DAG)
---------------------------------------------------
* Odd member count: *node majority* — every member votes, the witness does not.
  Even member count: *node and file share majority* — the members and the file share
  witness vote. Quorum needs a strict majority of all voters (:func:`votes_needed`).
* Members that are down do not vote but still count in the voter total; that is how a
  cluster loses quorum.
* Each connectivity group with running members is a candidate partition (a running member
  listed in no group is a partition of its own). Its votes are its running members plus
  one if the witness votes, is running, is reachable from the partition (listed in the
  same group) and the partition owns the witness lock.
* The witness is a file lock, so only one partition can count it. When several partitions
  reach the witness, it goes to the partition with the most member votes; a tie goes to
  the partition whose smallest member name sorts first. **Assumption**: in Windows the
  first node to lock the witness file wins, which is a race; the rule here makes runs
  deterministic.
* At most one partition can reach ``votes_needed``; :func:`quorum` asserts it.

Further assumptions: the static vote model (no Windows Server 2012
*dynamic quorum* or 2012 R2 *dynamic witness* vote adjustment, every member has a vote);
the witness lock has no memory (a snapshot cannot say which partition held it before).

Connectivity (:attr:`ClusterState.groups`): a member appears in at most one group. A
non-member host — in practice the witness — may appear in several groups: that expresses
a witness in a third site reachable from two sites that cannot reach each other, the only
case where the witness lock rule above matters. Connected components of one network graph
(``Topology.partitions``) never put a host in two groups.

DAC (datacenter activation coordination, ``DatacenterActivationMode DagOnly``)
------------------------------------------------------------------------------
:class:`DacState` tracks each member's DACP bit: 0 when its Active Manager starts, 1 once
it can talk to a running member whose bit is 1 or to every DAG member; a member may mount
databases only while its bit is 1. Not modelled: the Exchange 2010 SP1+ two-member-DAG
variant that compares the witness server's boot time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dagsim.text import quorum_text

__all__ = [
    "ClusterState",
    "DacState",
    "Partition",
    "Quorum",
    "explain_quorum",
    "partitions",
    "quorum",
    "voters",
    "votes_needed",
]


def voters(members: Sequence[str], witness: str | None) -> tuple[str, ...]:
    """The cluster's voters: every member, plus the witness when the member count is even.

    Node majority for an odd member count; node and file share majority for an even
    (non-zero) count, if a witness is configured. A cluster with no members has no voters.
    """
    _check_members(members, witness)
    members = tuple(members)
    if witness is not None and members and len(members) % 2 == 0:
        return (*members, witness)
    return members


def votes_needed(members: Sequence[str], witness: str | None) -> int:
    """Votes a partition needs for quorum: a strict majority of :func:`voters`."""
    return len(voters(members, witness)) // 2 + 1


def _check_members(members: Iterable[str], witness: str | None) -> None:
    members = tuple(members)
    if len(set(members)) != len(members):
        raise ValueError(f"cluster members are not unique: {members!r}")
    if witness is not None and witness in members:
        raise ValueError(f"witness {witness!r} is also a cluster member")


@dataclass(frozen=True, slots=True)
class ClusterState:
    """A snapshot of the failover cluster: membership, witness, what runs, who talks."""

    members: tuple[str, ...]
    """Servers currently in the cluster (fewer after ``Restore-DatabaseAvailabilityGroup``
    evicts the stopped ones)."""
    witness: str | None
    """The file share witness host in use (the alternate witness after a restore)."""
    up: frozenset[str]
    """Hosts (members and witness) that are running; other names are ignored."""
    groups: tuple[frozenset[str], ...]
    """Sets of hosts that can talk to each other. A member appears in at most one group
    (a member in none is isolated); the witness may appear in several."""
    node_votes: frozenset[str] | None = None
    """Dynamic quorum: the members that hold a vote now. None: every member (static)."""
    witness_votes: bool | None = None
    """Dynamic witness: whether the witness votes now. None: when the member count is even."""

    def voting(self) -> tuple[tuple[str, ...], bool]:
        """The members that vote, and whether the witness does."""
        if self.node_votes is None:
            voting = voters(self.members, self.witness)
            return tuple(m for m in voting if m != self.witness), self.witness is not None and self.witness in voting
        members = tuple(m for m in self.members if m in self.node_votes)
        return members, bool(self.witness_votes) and self.witness is not None

    def votes_needed(self) -> int:
        """A strict majority of the votes there are now."""
        members, witness = self.voting()
        return (len(members) + witness) // 2 + 1

    def __post_init__(self) -> None:
        _check_members(self.members, self.witness)
        seen: set[str] = set()
        member_set = set(self.members)
        for group in self.groups:
            for name in group & member_set:
                if name in seen:
                    raise ValueError(f"member {name!r} is in more than one connectivity group")
                seen.add(name)


@dataclass(frozen=True, slots=True)
class Partition:
    """One candidate partition: running members that can talk to each other."""

    members: frozenset[str]
    votes: int
    witness_vote: bool
    """Whether this partition owns the witness lock (and the witness votes)."""


@dataclass(frozen=True, slots=True)
class Quorum:
    """Which partition, if any, holds quorum."""

    members: frozenset[str]
    """Members in the partition that holds quorum (empty if none does)."""
    votes: int
    """Votes that partition holds (0 if no partition holds quorum)."""
    needed: int
    """Votes needed: a strict majority of all voters, running or not."""
    witness_vote: bool
    """Whether the witness vote counted for that partition."""

    @property
    def held(self) -> bool:
        """Whether some partition holds quorum."""
        return self.votes >= self.needed


def partitions(state: ClusterState) -> tuple[Partition, ...]:
    """Every candidate partition with its votes, the witness given to at most one.

    Ordered by votes (most first), then by smallest member name.
    """
    voting_members, witness_votes = state.voting()
    holds_vote = set(voting_members)
    running = [m for m in state.members if m in state.up]
    placed: set[str] = set()
    found: list[tuple[frozenset[str], bool]] = []  # (running members, reaches the witness)
    for group in state.groups:
        inside = frozenset(m for m in running if m in group)
        if inside:
            placed |= inside
            found.append((inside, state.witness is not None and state.witness in group))
    found.extend((frozenset({m}), False) for m in running if m not in placed)

    owner: int | None = None  # index in ``found`` of the partition that locks the witness
    if witness_votes and state.witness in state.up:
        reaching = [i for i, (_, reaches) in enumerate(found) if reaches]
        if reaching:
            owner = min(reaching, key=lambda i: (-len(found[i][0]), min(found[i][0])))
    result = [
        Partition(members=ms, votes=len(ms & holds_vote) + (i == owner), witness_vote=i == owner)
        for i, (ms, _) in enumerate(found)
    ]
    result.sort(key=lambda p: (-p.votes, min(p.members)))
    return tuple(result)


def quorum(state: ClusterState) -> Quorum:
    """The partition that holds quorum in ``state``, or an empty :class:`Quorum` if none."""
    needed = state.votes_needed()
    holding = [p for p in partitions(state) if p.votes >= needed]
    assert len(holding) <= 1, f"several partitions hold quorum: {holding!r}"
    if not holding:
        return Quorum(members=frozenset(), votes=0, needed=needed, witness_vote=False)
    p = holding[0]
    return Quorum(members=p.members, votes=p.votes, needed=needed, witness_vote=p.witness_vote)


def explain_quorum(state: ClusterState, q: Quorum) -> str:
    """One or two sentences, for an administrator, on who has quorum and why (or why not)."""
    voting_members, witness_votes = state.voting()
    voting = (*voting_members, state.witness) if witness_votes else voting_members
    parts = () if q.held or not state.members else partitions(state)
    return quorum_text(
        held=q.held,
        members=sorted(q.members),
        votes=q.votes,
        needed=q.needed,
        total=len(voting_members) + witness_votes,
        witness=state.witness,
        witness_counted=q.witness_vote,
        witness_votes=state.witness is not None and state.witness in voting,
        dynamic_node_votes=len(voting_members) if state.node_votes is not None else None,
        no_members=not state.members,
        largest=(sorted(parts[0].members), parts[0].votes, parts[0].witness_vote) if parts else None,
    )


class DacState:
    """DACP bit per member: 0 when a member's Active Manager starts; 1 once it has talked
    to a member whose bit is 1, or to every DAG member; a member may mount databases only
    while its bit is 1."""

    __slots__ = ("_bits", "_enabled", "_members")

    def __init__(self, members: Sequence[str], enabled: bool) -> None:
        """Every member starts with bit 1 (the DAG has been running); if ``enabled`` is
        false (DAC mode off), :meth:`may_mount` is always True."""
        _check_members(members, None)
        self._members = tuple(members)
        self._enabled = enabled
        self._bits = dict.fromkeys(self._members, 1)

    @property
    def enabled(self) -> bool:
        """Whether DAC mode is on."""
        return self._enabled

    @property
    def members(self) -> tuple[str, ...]:
        """The members tracked, in the order given."""
        return self._members

    def server_started(self, server: str) -> None:
        """A member's Active Manager starts: its bit becomes 0."""
        self._check(server)
        self._bits[server] = 0

    def server_stopped(self, server: str) -> None:
        """A member stops: a down server has no bit (it reads as 0)."""
        self._check(server)
        self._bits[server] = 0

    def refresh(
        self,
        groups: Sequence[frozenset[str]],
        up: frozenset[str],
        dag_members: Sequence[str],
    ) -> list[str]:
        """Raise the bit of every running member with bit 0 that can talk to a running
        member with bit 1, or to every one of ``dag_members``; repeat until nothing
        changes. Returns the members whose bit became 1, in member order.

        ``groups`` are connectivity groups as in :attr:`ClusterState.groups` (a member
        talks to the members of its own group); ``up`` the running hosts; ``dag_members``
        the DAG membership as configured, including stopped servers — a member cannot talk
        to a server that is down, so with any DAG member down the "every member" route to
        bit 1 is closed.
        """
        if not dag_members:
            raise ValueError("refresh needs the DAG membership (dag_members is empty)")
        group_of: dict[str, frozenset[str]] = {}
        for group in groups:
            for name in group:
                if name in self._bits:
                    group_of.setdefault(name, group)
        raised: set[str] = set()
        changed = True
        while changed:
            changed = False
            for m in self._members:
                if self._bits[m] == 1 or m not in up:
                    continue
                group = group_of.get(m, frozenset({m}))
                peers = [p for p in group if p != m and p in up and p in self._bits]
                talks_to_bit1 = any(self._bits[p] == 1 for p in peers)
                talks_to_all = all(d == m or (d in group and d in up) for d in dag_members)
                if talks_to_bit1 or talks_to_all:
                    self._bits[m] = 1
                    raised.add(m)
                    changed = True
        return [m for m in self._members if m in raised]

    def bit(self, server: str) -> int:
        """The member's DACP bit (0 for a stopped member)."""
        self._check(server)
        return self._bits[server]

    def may_mount(self, server: str) -> bool:
        """Whether the member may mount databases: always with DAC off, else bit == 1."""
        self._check(server)
        return not self._enabled or self._bits[server] == 1

    def _check(self, server: str) -> None:
        if server not in self._bits:
            raise KeyError(f"{server!r} is not a DAG member")

    def __repr__(self) -> str:
        bits = ", ".join(f"{m}={b}" for m, b in self._bits.items())
        return f"DacState(enabled={self._enabled}, {bits})"
