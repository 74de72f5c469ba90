"""Cluster quorum and datacenter activation coordination (dagsim.model.quorum)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagsim.model.quorum import (
    ClusterState,
    DacState,
    Quorum,
    explain_quorum,
    partitions,
    quorum,
    voters,
    votes_needed,
)

# Two sites: SiteA holds A1, A2 and the witness FSW; SiteB holds B1, B2 and the alternate
# witness AFSW.
FOUR = ("A1", "A2", "B1", "B2")
ALL_HOSTS = frozenset({*FOUR, "FSW", "AFSW"})
SITE_A = frozenset({"A1", "A2", "FSW"})
SITE_B = frozenset({"B1", "B2", "AFSW"})


def state(
    members=FOUR,
    witness="FSW",
    down=(),
    groups=(ALL_HOSTS,),
) -> ClusterState:
    """A cluster snapshot where every listed host runs except ``down``."""
    hosts = {*members, *([witness] if witness else []), "FSW", "AFSW"}
    return ClusterState(
        members=tuple(members),
        witness=witness,
        up=frozenset(hosts - set(down)),
        groups=tuple(frozenset(g) for g in groups),
    )


# -- voters --


def test_even_member_count_gives_the_witness_a_vote():
    """Four members: node and file share majority, five voters, three needed."""
    assert voters(FOUR, "FSW") == (*FOUR, "FSW")
    assert votes_needed(FOUR, "FSW") == 3


def test_odd_member_count_ignores_the_witness():
    """Five members: node majority even with a witness configured, three needed."""
    five = (*FOUR, "C1")
    assert voters(five, "FSW") == five
    assert votes_needed(five, "FSW") == 3


def test_even_member_count_without_witness_needs_a_strict_majority_of_members():
    """Two members and no witness: both votes needed."""
    assert voters(("A1", "A2"), None) == ("A1", "A2")
    assert votes_needed(("A1", "A2"), None) == 2


# -- quorum by failure count --


def test_four_members_and_witness_survive_two_voters_down():
    """4 members + witness: two members down, or a member and the witness down, keep quorum."""
    q = quorum(state(down={"A1", "B1"}))
    assert (q.held, q.members, q.votes, q.needed, q.witness_vote) == (
        True, frozenset({"A2", "B2"}), 3, 3, True,
    )  # fmt: skip
    q = quorum(state(down={"A1", "FSW"}))
    assert (q.held, q.members, q.votes, q.witness_vote) == (
        True, frozenset({"A2", "B1", "B2"}), 3, False,
    )  # fmt: skip


def test_four_members_and_witness_lose_quorum_at_the_third_voter_down():
    """4 members + witness: three voters down (any mix) loses quorum."""
    for down in ({"A1", "A2", "B1"}, {"A1", "B1", "FSW"}):
        q = quorum(state(down=down))
        assert not q.held, down
        assert q == Quorum(members=frozenset(), votes=0, needed=3, witness_vote=False)


def test_five_members_survive_two_failures_and_lose_at_three():
    """5 members (witness configured but not voting): two down hold, three down lose."""
    five = (*FOUR, "C1")
    q = quorum(state(members=five, down={"A1", "A2"}, groups=({*five, "FSW"},)))
    assert q.held and q.votes == 3 and q.needed == 3
    assert not q.witness_vote  # the witness is up and reachable but has no vote
    q = quorum(state(members=five, down={"A1", "A2", "B1"}, groups=({*five, "FSW"},)))
    assert not q.held and q.needed == 3


def test_three_members_survive_one_failure():
    """3 members: one down holds with 2 of 3; two down loses."""
    three = ("A1", "A2", "B1")
    q = quorum(state(members=three, down={"A1"}))
    assert q.held and q.members == {"A2", "B1"} and q.votes == 2 and q.needed == 2
    assert not quorum(state(members=three, down={"A1", "A2"})).held


def test_two_members_and_witness_survive_one_member_failure():
    """2 members + witness: one member down holds with the witness vote; witness down too loses."""
    two = ("A1", "B1")
    q = quorum(state(members=two, down={"B1"}))
    assert q.held and q.members == {"A1"} and q.votes == 2 and q.needed == 2 and q.witness_vote
    assert not quorum(state(members=two, down={"B1", "FSW"})).held


def test_down_members_count_in_the_voter_total():
    """Running members that are all connected still lack quorum when too many voters are down."""
    q = quorum(state(down={"A1", "A2", "FSW"}))
    assert q.needed == 3  # five voters, though only two run
    assert not q.held


def test_isolated_running_member_is_its_own_partition():
    """A member listed in no group still forms a partition: a one-member cluster holds quorum."""
    q = quorum(ClusterState(members=("A1",), witness=None, up=frozenset({"A1"}), groups=()))
    assert q.held and q.members == {"A1"} and q.votes == 1 and q.needed == 1


# -- splits --


def test_split_with_witness_reachable_from_both_sides_has_one_deterministic_winner():
    """2-2 split, witness reachable from both: only the side with the smallest name holds."""
    groups = ({"A1", "A2", "FSW"}, {"B1", "B2", "FSW"})
    for order in (groups, groups[::-1]):
        parts = partitions(state(groups=order))
        assert [p.votes for p in parts] == [3, 2]
        assert [p.witness_vote for p in parts] == [True, False]
        q = quorum(state(groups=order))
        assert q.held and q.members == {"A1", "A2"} and q.votes == 3 and q.witness_vote


def test_split_witness_goes_to_the_side_with_more_running_members():
    """Witness reachable from both sides: the side with more member votes locks it."""
    q = quorum(state(down={"A2"}, groups=({"A1", "A2", "FSW"}, {"B1", "B2", "FSW"})))
    assert q.held and q.members == {"B1", "B2"} and q.witness_vote


def test_split_with_witness_in_one_site_gives_that_site_quorum():
    """2-2 split, witness only reachable in the B site: the B side holds, though A1 sorts first."""
    q = quorum(state(groups=({"A1", "A2"}, {"B1", "B2", "FSW"})))
    assert q.held and q.members == {"B1", "B2"} and q.votes == 3 and q.witness_vote


def test_primary_site_down_leaves_second_site_without_quorum():
    """SiteA (A1, A2, FSW) loses power: B1 and B2 hold 2 of 5 votes, no quorum."""
    s = state(down=SITE_A, groups=(SITE_B,))
    q = quorum(s)
    assert not q.held and q.needed == 3
    assert [(p.members, p.votes) for p in partitions(s)] == [(frozenset({"B1", "B2"}), 2)]


def test_restore_to_second_site_with_alternate_witness_holds_quorum():
    """After Restore-DatabaseAvailabilityGroup (members B1, B2; witness AFSW) SiteB has quorum."""
    s = state(members=("B1", "B2"), witness="AFSW", down=SITE_A, groups=(SITE_B,))
    q = quorum(s)
    assert q.held and q.members == {"B1", "B2"} and q.votes == 3 and q.needed == 2
    assert q.witness_vote


def test_restored_primary_site_without_wan_cannot_take_quorum_back():
    """After restore, SiteA returning with the WAN down cannot form quorum (not a member)."""
    s = state(members=("B1", "B2"), witness="AFSW", groups=(SITE_A, SITE_B))
    q = quorum(s)
    assert q.held and q.members == {"B1", "B2"}
    assert [p.members for p in partitions(s)] == [frozenset({"B1", "B2"})]


# -- validation --


def test_member_in_two_groups_is_rejected():
    """A member may be in at most one connectivity group."""
    with pytest.raises(ValueError, match="A1"):
        state(groups=({"A1", "A2"}, {"A1", "B1"}))


def test_witness_may_not_be_a_member():
    """The witness is a non-member host."""
    with pytest.raises(ValueError, match="witness"):
        state(witness="A1")


# -- explanation --


def test_explain_names_the_holding_partition_and_the_witness():
    """The explanation lists the holders, votes of total, and that the witness counted."""
    s = state(down={"B1", "B2"})
    text = explain_quorum(s, quorum(s))
    assert text.startswith("Quorum held by A1, A2 with 3 of 5 votes including the witness FSW")
    assert "3 needed" in text


def test_explain_says_quorum_is_lost():
    """When no partition has a majority, the explanation says quorum is lost and why."""
    s = state(down=SITE_A, groups=(SITE_B,))
    text = explain_quorum(s, quorum(s))
    assert text.startswith("Quorum lost")
    assert "(B1, B2) has 2 of 5 votes" in text and "3 needed" in text


def test_explain_node_majority_does_not_mention_a_witness_vote():
    """Odd member count: the explanation names node majority and no witness vote."""
    five = (*FOUR, "C1")
    s = state(members=five, down={"A1"}, groups=({*five, "FSW"},))
    text = explain_quorum(s, quorum(s))
    assert text == "Quorum held by A2, B1, B2, C1 with 4 of 5 votes (3 needed, node majority)."


# -- DAC --


def test_dac_member_restarted_in_isolation_keeps_bit_zero_until_it_reaches_a_bit_one_member():
    """DAC: SiteA returns with the WAN down and may not mount; once the WAN is up it may."""
    dac = DacState(FOUR, enabled=True)
    dac.server_stopped("A1")
    dac.server_stopped("A2")
    dac.server_started("A1")
    dac.server_started("A2")
    up = frozenset(ALL_HOSTS)
    assert dac.refresh((SITE_A, SITE_B), up, FOUR) == []
    assert (dac.bit("A1"), dac.may_mount("A1"), dac.may_mount("A2")) == (0, False, False)
    assert dac.may_mount("B1") and dac.bit("B1") == 1
    assert dac.refresh((ALL_HOSTS,), up, FOUR) == ["A1", "A2"]
    assert dac.bit("A1") == 1 and dac.may_mount("A1") and dac.may_mount("A2")


def test_dac_bit_one_member_that_is_down_does_not_count():
    """DAC: a peer listed with bit 1 but not running cannot vouch for a restarting member."""
    dac = DacState(("A1", "A2", "B1"), enabled=True)
    dac.server_started("A1")
    assert dac.refresh(({"A1", "A2"},), frozenset({"A1"}), ("A1", "A2", "B1")) == []
    assert not dac.may_mount("A1")


def test_dac_cold_start_sets_bit_once_every_dag_member_is_reachable():
    """DAC: whole DAG cold start (all bits 0) sets every bit once all members talk."""
    dac = DacState(FOUR, enabled=True)
    for m in FOUR:
        dac.server_started(m)
    assert not any(dac.may_mount(m) for m in FOUR)
    up = frozenset(ALL_HOSTS)
    assert dac.refresh((ALL_HOSTS,), up - {"B2"}, FOUR) == []  # B2 down: not all reachable
    assert dac.refresh((ALL_HOSTS,), up, FOUR) == list(FOUR)
    assert all(dac.bit(m) == 1 and dac.may_mount(m) for m in FOUR)


def test_dac_stopped_member_has_no_bit():
    """DAC: a stopped member reads bit 0 and may not mount."""
    dac = DacState(FOUR, enabled=True)
    assert dac.bit("B1") == 1
    dac.server_stopped("B1")
    assert dac.bit("B1") == 0 and not dac.may_mount("B1")


def test_dac_disabled_always_allows_mount():
    """DAC off: a restarted member with bit 0 may still mount."""
    dac = DacState(FOUR, enabled=False)
    dac.server_stopped("A1")
    dac.server_started("A1")
    assert dac.refresh(({"A1"}, {"A2", "B1", "B2"}), frozenset(ALL_HOSTS), FOUR) == []
    assert dac.bit("A1") == 0
    assert dac.may_mount("A1")


def test_dac_unknown_server_is_rejected():
    """DAC: asking about a non-member is an error, not a silent 0."""
    dac = DacState(FOUR, enabled=True)
    with pytest.raises(KeyError):
        dac.bit("FSW")


# -- properties --


@st.composite
def cluster_states(draw) -> ClusterState:
    """Random members (1..16), witness or not, up set and partitions (witness in 0..2 groups)."""
    n = draw(st.integers(1, 16))
    members = tuple(f"M{i:02d}" for i in range(n))
    witness = draw(st.sampled_from(["W", None]))
    hosts = [*members, *([witness] if witness else [])]
    up = frozenset(h for h in hosts if draw(st.booleans()))
    n_groups = draw(st.integers(0, 5))
    labels = [draw(st.integers(-1, n_groups - 1)) for _ in members]  # -1: isolated
    groups = [set() for _ in range(n_groups)]
    for m, label in zip(members, labels, strict=True):
        if label >= 0:
            groups[label].add(m)
    if witness and n_groups:
        for g in draw(st.lists(st.integers(0, n_groups - 1), max_size=2, unique=True)):
            groups[g].add(witness)
    return ClusterState(members, witness, up, tuple(frozenset(g) for g in groups))


@settings(max_examples=500, deadline=None)
@given(cluster_states())
def test_property_at_most_one_partition_holds_quorum(s: ClusterState):
    """Random clusters: at most one partition reaches the majority; held implies enough votes."""
    needed = votes_needed(s.members, s.witness)
    parts = partitions(s)
    assert sum(p.votes >= needed for p in parts) <= 1
    assert sum(p.witness_vote for p in parts) <= 1
    assert sum(p.votes for p in parts) <= len(voters(s.members, s.witness))
    q = quorum(s)
    assert q.needed == needed
    if q.held:
        assert q.votes >= q.needed
        assert q.members and q.members <= s.up and q.members <= set(s.members)
        assert any(p.members == q.members for p in parts)
    else:
        assert all(p.votes < needed for p in parts)


@settings(max_examples=300, deadline=None)
@given(cluster_states(), st.data())
def test_property_starting_a_host_never_loses_quorum(s: ClusterState, data):
    """Random clusters: bringing one more host up keeps quorum if it was held."""
    down = sorted({*s.members, *([s.witness] if s.witness else [])} - s.up)
    if not down or not quorum(s).held:
        return
    host = data.draw(st.sampled_from(down))
    more = ClusterState(s.members, s.witness, s.up | {host}, s.groups)
    assert quorum(more).held


def test_quorum_lost_event_says_databases_return_when_voters_do():
    """The quorum_lost message does not claim only an operator can bring the databases back."""
    import dagsim

    result = dagsim.simulate(Path(__file__).resolve().parent.parent / "scenarios" / "library" / "quorum-odd-members.yaml")
    [event] = [e for e in result.event_records if e.kind == "quorum_lost"]
    assert "until enough voters return or an operator restores quorum" in event.detail


def test_dynamic_votes_count_only_the_members_that_hold_one():
    """With dynamic quorum, 2 of 3 remaining votes hold quorum where 2 of 5 static votes would not."""
    from dagsim.model.quorum import ClusterState, quorum

    members = ("M1", "M2", "M3", "M4")
    up = frozenset({"M2", "M4"})  # M1, M3 and the witness are down
    groups = (frozenset({"M2", "M4"}),)
    static = quorum(ClusterState(members=members, witness="FSW", up=up, groups=groups))
    assert not static.held and static.needed == 3
    dynamic = quorum(
        ClusterState(members=members, witness="FSW", up=up, groups=groups,
                     node_votes=frozenset({"M2", "M3", "M4"}), witness_votes=False)
    )  # fmt: skip
    assert dynamic.held and dynamic.needed == 2 and dynamic.votes == 2
