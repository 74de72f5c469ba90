"""Best copy and server selection and the mount dial (dagsim.model.selection)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagsim.model.selection import (
    DIAL_LIMITS,
    ELIGIBLE_STATUSES,
    CandidateCopy,
    Rejected,
    SwitchoverChecks,
    criteria_set,
    dial_allows,
    explain,
    health_check,
    missing_logs_allowed,
    select_copies,
)

LOSSY = ["good_availability", "good_availability", "good_availability"]


def copy(server: str, pref: int = 1, cq: float = 0, rq: float = 0, **kw) -> CandidateCopy:
    """A healthy copy in site A unless told otherwise."""
    return CandidateCopy(
        server=server,
        site=kw.pop("site", "A"),
        activation_preference=pref,
        status=kw.pop("status", "Healthy"),
        copy_queue=cq,
        replay_queue=rq,
        **kw,
    )


def select(candidates, dials=LOSSY, source_site="A", automatic=True):
    return select_copies(
        candidates, source_site=source_site, dials_of_all_copies=dials, automatic=automatic
    )


def servers(selection) -> list[str]:
    return [r.copy.server for r in selection.order]


def reasons(selection) -> dict[str, str]:
    return {r.server: r.reason for r in selection.rejected}


# --- mount dial -------------------------------------------------------------------------


def test_good_availability_allows_six_missing_logs_not_seven():
    """GoodAvailability mounts with 6 missing logs and refuses 7."""
    assert dial_allows("good_availability", 6)
    assert not dial_allows("good_availability", 7)


def test_best_availability_allows_twelve_missing_logs_not_thirteen():
    """BestAvailability mounts with 12 missing logs and refuses 13."""
    assert dial_allows("best_availability", 12)
    assert not dial_allows("best_availability", 13)


def test_lossless_allows_only_zero_missing_logs():
    """Lossless mounts only when no log is missing."""
    assert dial_allows("lossless", 0)
    assert not dial_allows("lossless", 1)
    assert not dial_allows("lossless", 0.5)


def test_best_effort_allows_any_number_of_missing_logs():
    """BestEffort mounts whatever is missing."""
    assert dial_allows("best_effort", 1e12)
    assert missing_logs_allowed("best_effort") == math.inf


def test_unknown_dial_is_a_value_error():
    """A misspelt dial name raises rather than guessing."""
    with pytest.raises(ValueError, match="GoodAvailability"):
        missing_logs_allowed("GoodAvailability")
    with pytest.raises(ValueError):
        dial_allows("nonsense", 0)
    assert set(DIAL_LIMITS) == {"lossless", "good_availability", "best_availability", "best_effort"}


# --- sort -------------------------------------------------------------------------------


def test_all_lossy_sorts_by_copy_queue():
    """With every dial lossy, the shorter copy queue goes first despite worse preference."""
    sel = select([copy("MBX2", pref=2, cq=5), copy("MBX3", pref=3, cq=1)])
    assert sel.sorted_by == "copy queue length"
    assert servers(sel) == ["MBX3", "MBX2"]


def test_copy_queue_ties_are_broken_by_activation_preference():
    """Equal copy queues are ordered by activation preference."""
    sel = select([copy("MBX3", pref=3, cq=2), copy("MBX2", pref=2, cq=2)])
    assert servers(sel) == ["MBX2", "MBX3"]


def test_one_lossless_dial_anywhere_sorts_by_activation_preference():
    """A single Lossless server among the copies switches the sort to preference."""
    sel = select(
        [copy("MBX2", pref=2, cq=5), copy("MBX3", pref=3, cq=1)],
        dials=["lossless", "good_availability", "best_availability"],
    )
    assert sel.sorted_by == "activation preference"
    assert servers(sel) == ["MBX2", "MBX3"]


def test_unknown_dial_among_all_copies_is_a_value_error():
    """dials_of_all_copies is checked, so a typo cannot silently pick the lossy sort."""
    with pytest.raises(ValueError):
        select([copy("MBX2")], dials=["Lossless"])


def test_two_copies_on_one_server_is_a_value_error():
    """A database has at most one copy per server."""
    with pytest.raises(ValueError, match="one copy per server"):
        select([copy("MBX2"), copy("MBX2", pref=2)])


# --- criteria sets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "cq", "rq", "expected"),
    [
        ("Healthy", 9, 49, 1),
        ("Crawling", 9, 49, 2),
        ("Healthy", 10, 49, 3),
        ("Crawling", 10, 49, 4),
        ("Failed", 0, 49, 5),
        ("Healthy", 9, 50, 6),
        ("Crawling", 9, 50, 7),
        ("Healthy", 10, 50, 8),
        ("Crawling", 10, 50, 9),
        ("Failed", 0, 50, 10),
    ],
)
def test_each_criteria_set_is_the_first_one_met(ci, cq, rq, expected):
    """Each combination of index state and queue lengths lands in its documented set."""
    assert criteria_set(copy("MBX2", cq=cq, rq=rq, content_index=ci)) == expected


def test_set_two_copy_beats_better_preference_set_three_copy():
    """A crawling copy with short queues beats a healthy-index copy with a long copy queue."""
    sel = select(
        [copy("MBX2", pref=2, cq=20, content_index="Healthy"),
         copy("MBX3", pref=3, cq=2, content_index="Crawling")],
        dials=["lossless"],
    )
    assert [(r.copy.server, r.criteria_set) for r in sel.order] == [("MBX3", 2), ("MBX2", 3)]


def test_set_one_beats_set_two_regardless_of_sort():
    """The set-1 copy wins both under copy-queue sort and under preference sort."""
    crawling_first_in_both_sorts = copy("MBX2", pref=2, cq=0, content_index="Crawling")
    healthy = copy("MBX3", pref=3, cq=5)
    for dials in (LOSSY, ["lossless"]):
        sel = select([crawling_first_in_both_sorts, healthy], dials=dials)
        assert servers(sel) == ["MBX3", "MBX2"]
        assert sel.best().criteria_set == 1


def test_long_replay_queue_drops_to_sets_six_to_ten():
    """A replay queue of 50 or more leaves only sets 6-10, behind any copy with RQ < 50."""
    lagged = copy("MBX2", pref=1, cq=0, rq=50)
    behind = copy("MBX3", pref=3, cq=40, rq=49, content_index="Failed")
    sel = select([lagged, behind], dials=["lossless"])
    assert [(r.copy.server, r.criteria_set) for r in sel.order] == [("MBX3", 5), ("MBX2", 6)]


def test_order_within_a_set_follows_the_sort():
    """Copies meeting the same set keep the BCSS sort order."""
    sel = select(
        [copy("MBX2", pref=2, cq=4), copy("MBX3", pref=3, cq=3), copy("MBX4", pref=4, cq=5)]
    )
    assert [(r.copy.server, r.criteria_set) for r in sel.order] == [
        ("MBX3", 1), ("MBX2", 1), ("MBX4", 1)
    ]


# --- exclusions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"excluded": "server is not in the quorum partition"},
            "server is not in the quorum partition",
        ),
        ({"reachable": False}, "server unreachable"),
        ({"suspended": True}, "copy is suspended"),
        ({"activation_suspended": True}, "activation is suspended"),
        ({"auto_activation_policy": "blocked"}, "DatabaseCopyAutoActivationPolicy is Blocked"),
        (
            {"auto_activation_policy": "intrasite_only", "site": "B"},
            "DatabaseCopyAutoActivationPolicy is IntrasiteOnly and the copy is in another site",
        ),
        (
            {"active_databases": 20, "maximum_active_databases": 20},
            "server is at MaximumActiveDatabases (20)",
        ),
    ],
)
def test_each_exclusion_rejects_with_its_reason(changes, reason):
    """Each exclusion rule drops the copy with its exact reason and keeps the healthy one."""
    sel = select([copy("MBX2", pref=2), replace(copy("MBX3", pref=3), **changes)])
    assert sel.rejected == (Rejected("MBX3", reason),)
    assert servers(sel) == ["MBX2"]


@pytest.mark.parametrize(
    "status",
    ["Failed", "FailedAndSuspended", "Suspended", "Seeding", "ServiceDown", "Initializing",
     "Resynchronizing", "Mounted", "Dismounted"],
)
def test_ineligible_status_is_rejected(status):
    """A status outside the four eligible ones is rejected, naming the status."""
    sel = select([copy("MBX3", status=status)])
    assert sel.rejected == (Rejected("MBX3", f"status {status} is not eligible for activation"),)
    assert sel.best() is None


@pytest.mark.parametrize("status", sorted(ELIGIBLE_STATUSES))
def test_eligible_status_is_kept(status):
    """Each eligible status can be activated."""
    assert select([copy("MBX3", status=status)]).best().copy.server == "MBX3"


def test_intrasite_only_copy_in_the_same_site_is_kept():
    """IntrasiteOnly only forbids crossing sites."""
    sel = select([copy("MBX3", site="A", auto_activation_policy="intrasite_only")], source_site="A")
    assert servers(sel) == ["MBX3"] and sel.rejected == ()


def test_below_maximum_active_databases_is_kept():
    """A server one database under its limit may take another."""
    sel = select([copy("MBX3", active_databases=19, maximum_active_databases=20)])
    assert servers(sel) == ["MBX3"]


def test_first_applicable_reason_wins():
    """A copy failing several rules gets only the first reason in rule order."""
    sel = select([
        copy("E", excluded="DACP bit is 0", reachable=False, status="Failed"),
        copy("U", reachable=False, suspended=True),
        copy("S", suspended=True, activation_suspended=True, status="Suspended"),
        copy("A", activation_suspended=True, auto_activation_policy="blocked"),
        copy("B", auto_activation_policy="blocked", active_databases=1, maximum_active_databases=1),
        copy("M", active_databases=1, maximum_active_databases=1, status="Failed"),
    ])
    assert reasons(sel) == {
        "E": "DACP bit is 0",
        "U": "server unreachable",
        "S": "copy is suspended",
        "A": "activation is suspended",
        "B": "DatabaseCopyAutoActivationPolicy is Blocked",
        "M": "server is at MaximumActiveDatabases (1)",
    }
    assert [r.server for r in sel.rejected] == ["E", "U", "S", "A", "B", "M"]


def test_switchover_ignores_auto_activation_policy():
    """An operator switchover may target Blocked and cross-site IntrasiteOnly copies."""
    candidates = [
        copy("MBX2", pref=2, auto_activation_policy="blocked"),
        copy("MBX3", pref=3, site="B", auto_activation_policy="intrasite_only"),
    ]
    assert len(select(candidates).rejected) == 2
    sel = select(candidates, automatic=False)
    assert servers(sel) == ["MBX2", "MBX3"] and sel.rejected == ()


def test_switchover_keeps_every_other_rule():
    """A switchover still drops unreachable, suspended, full and ineligible copies."""
    sel = select(
        [
            copy("X", excluded="DACP bit is 0"),
            copy("U", reachable=False, auto_activation_policy="blocked"),
            copy("S", suspended=True),
            copy("A", activation_suspended=True),
            copy("M", active_databases=5, maximum_active_databases=5),
            copy("F", status="Failed", auto_activation_policy="intrasite_only", site="B"),
        ],
        automatic=False,
    )
    assert sel.best() is None
    assert reasons(sel) == {
        "X": "DACP bit is 0",
        "U": "server unreachable",
        "S": "copy is suspended",
        "A": "activation is suspended",
        "M": "server is at MaximumActiveDatabases (5)",
        "F": "status Failed is not eligible for activation (skip_health_checks skips it)",
    }


def test_empty_candidate_list_has_no_best_copy():
    """With no candidates there is nothing to activate."""
    sel = select([])
    assert sel.best() is None and sel.order == () and sel.rejected == ()


def test_unknown_policy_or_content_index_is_a_value_error():
    """Misspelt enumerations on a candidate raise instead of being read as a default."""
    with pytest.raises(ValueError):
        copy("MBX2", auto_activation_policy="IntrasiteOnly")
    with pytest.raises(ValueError):
        copy("MBX2", content_index="healthy")
    with pytest.raises(ValueError):
        copy("MBX2", mount_dial="lossy")


# --- explain ----------------------------------------------------------------------------


def test_explain_mentions_sort_every_candidate_and_reason():
    """explain() names the sort, every rejected copy with its reason, and every ranked copy."""
    sel = select([
        copy("MBX2", pref=2, cq=3),
        copy("MBX3", pref=3, status="Failed"),
        copy("MBX4", pref=4, cq=20, rq=80, content_index="Failed"),
    ])
    lines = explain(sel)
    assert "copy queue length" in lines[0]
    assert "MBX3: rejected, status Failed is not eligible for activation." in lines
    mbx2 = "MBX2: criteria set 1 (content index Healthy, copy queue 3 < 10, replay queue 0 < 50)"
    mbx4 = [i for i, line in enumerate(lines) if line.startswith("MBX4: criteria set 10 (any")]
    assert len(mbx4) == 1
    assert lines.index(mbx2) < mbx4[0]


def test_explain_says_when_nothing_can_be_activated():
    """With every copy rejected the explanation says so, after the preference sort line."""
    lines = explain(select([copy("MBX2", reachable=False)], dials=["lossless"]))
    assert "activation preference" in lines[0]
    assert lines[1:] == ["MBX2: rejected, server unreachable.", "No copy can be activated."]


# --- property -----------------------------------------------------------------------------

STATUSES = sorted(ELIGIBLE_STATUSES) + ["Failed", "Suspended", "ServiceDown", "Seeding"]


@st.composite
def candidate_lists(draw):
    n = draw(st.integers(0, 8))
    out = []
    for i in range(n):
        limit = draw(st.none() | st.integers(0, 3))
        out.append(
            CandidateCopy(
                server=f"MBX{i}",
                site=draw(st.sampled_from(["A", "B"])),
                activation_preference=draw(st.integers(1, 16)),
                status=draw(st.sampled_from(STATUSES)),
                copy_queue=draw(st.floats(0, 200, allow_nan=False)),
                replay_queue=draw(st.floats(0, 200, allow_nan=False)),
                content_index=draw(st.sampled_from(["Healthy", "Crawling", "Failed"])),
                suspended=draw(st.booleans()),
                activation_suspended=draw(st.booleans()),
                reachable=draw(st.booleans()),
                auto_activation_policy=draw(
                    st.sampled_from(["unrestricted", "intrasite_only", "blocked"])
                ),
                active_databases=draw(st.integers(0, 3)),
                maximum_active_databases=limit,
                excluded=draw(st.none() | st.just("DACP bit is 0")),
            )
        )
    return draw(st.permutations(out))


@settings(max_examples=300, deadline=None)
@given(
    candidates=candidate_lists(),
    dials=st.lists(st.sampled_from(sorted(DIAL_LIMITS)), max_size=9),
    automatic=st.booleans(),
)
def test_every_candidate_lands_once_and_sets_never_improve_along_the_order(
    candidates, dials, automatic
):
    """order and rejected partition the candidates; criteria sets are non-decreasing."""
    sel = select(candidates, dials=dials, automatic=automatic)
    seen = [r.copy.server for r in sel.order] + [r.server for r in sel.rejected]
    assert sorted(seen) == sorted(c.server for c in candidates)
    assert len(seen) == len(candidates)
    sets = [r.criteria_set for r in sel.order]
    assert sets == sorted(sets)
    assert all(r.criteria_set == criteria_set(r.copy) for r in sel.order)
    assert [r.server for r in sel.rejected] == [
        c.server for c in candidates if c.server in {r.server for r in sel.rejected}
    ]


def _switchover(candidates, **skips):
    return select_copies(
        candidates, source_site="A", dials_of_all_copies=LOSSY, automatic=False, checks=SwitchoverChecks(**skips)
    )


def test_switchover_without_target_takes_candidates_by_activation_preference():
    """A switchover sorts by activation preference even when every dial is lossy (a failover sorts by copy queue)."""
    candidates = [copy("B", pref=2, cq=5), copy("C", pref=3, cq=0)]
    assert servers(select(candidates)) == ["C", "B"]
    assert servers(_switchover(candidates)) == ["B", "C"]


@pytest.mark.parametrize(
    ("candidate", "skip", "says"),
    [
        (copy("L", cq=10), "skip_lag_checks", "copy queue 10 / replay queue 0 logs, not under 10 / 50"),
        (copy("L", rq=50), "skip_lag_checks", "copy queue 0 / replay queue 50 logs"),
        (copy("I", content_index="Failed"), "skip_client_experience_checks", "content index Failed is not Healthy"),
        (copy("F", status="Failed"), "skip_health_checks", "status Failed is not eligible for activation"),
    ],
)
def test_switchover_pre_checks_refuse_unless_skipped(candidate, skip, says):
    """Each Move-ActiveMailboxDatabase pre-check refuses its copy; its Skip switch lets it through."""
    refused = _switchover([candidate])
    assert refused.best() is None and says in reasons(refused)[candidate.server] and skip in reasons(refused)[candidate.server]
    assert _switchover([candidate], **{skip: True}).best().copy.server == candidate.server


def test_failovers_apply_no_switchover_pre_check():
    """Active Manager's own failovers are not held to the switchover pre-checks (criteria sets rank them instead)."""
    assert select([copy("L", cq=11, content_index="Failed")]).best() is not None


def test_skip_health_checks_never_activates_a_suspended_or_unreachable_copy():
    """SkipHealthChecks lifts the status check only; suspended and unreachable copies stay out."""
    sel = _switchover([copy("S", suspended=True), copy("U", reachable=False)], skip_health_checks=True)
    assert sel.best() is None



def test_a_server_at_its_preferred_maximum_comes_after_the_others_in_its_criteria_set():
    """MaximumPreferredActiveDatabases is a soft limit: the copy stays a candidate, after its equals."""
    full = copy("B", pref=2, active_databases=1, maximum_preferred_active_databases=1)
    free = copy("C", pref=3)
    sel = select([full, free], dials=["lossless"] * 3)
    assert servers(sel) == ["C", "B"]
    assert "MaximumPreferredActiveDatabases (1), so after the others" in explain(sel)[-1]
    worse = copy("C", pref=3, cq=20)  # criteria set 1 on the full server still beats a worse set
    assert servers(select([full, worse], dials=["lossless"] * 3)) == ["B", "C"]


# --- Exchange 2013 server health checks ---------------------------------------------------


@pytest.mark.parametrize(
    "server,source,expected",
    [
        ("healthy", "high_priority_unhealthy", 1),
        ("healthy", None, 1),
        ("low_priority_unhealthy", "healthy", 2),
        ("normal_priority_unhealthy", "high_priority_unhealthy", 3),
        ("high_priority_unhealthy", None, 3),
        ("normal_priority_unhealthy", "normal_priority_unhealthy", 4),
        ("normal_priority_unhealthy", "healthy", None),
        ("high_priority_unhealthy", "normal_priority_unhealthy", None),
    ],
)
def test_each_server_passes_the_first_health_check_it_meets(server, source, expected):
    """All Healthy, Up to Normal Healthy, All Better than Source, Same as Source, in that order; a down source is worst."""
    assert health_check(server, source) == expected


def test_a_healthier_server_beats_a_better_copy_and_preference():
    """The health check comes before the criteria set and the sort."""
    sick = copy("B", pref=2, server_health="normal_priority_unhealthy")
    behind = copy("C", pref=3, cq=20)  # criteria set 3 on an All Healthy server
    sel = select_copies([sick, behind], source_site="A", dials_of_all_copies=LOSSY, source_health=None)
    assert servers(sel) == ["C", "B"]
    assert [r.health_check for r in sel.order] == [1, 3]
    assert "passes All Better than Source" in explain(sel)[-1]


def test_a_server_less_healthy_than_the_source_is_rejected():
    """A candidate that passes no health check is not activated, with the reason."""
    sel = select_copies(
        [copy("B", server_health="high_priority_unhealthy")],
        source_site="A", dials_of_all_copies=LOSSY, source_health="normal_priority_unhealthy",
    )  # fmt: skip
    assert sel.best() is None
    assert "worse than the source's normal_priority_unhealthy" in reasons(sel)["B"]


def test_a_health_triggered_failover_needs_a_strictly_healthier_server():
    """A Failover responder's move refuses a target as unhealthy as the source, even one Up to Normal Healthy."""
    same = copy("B", server_health="low_priority_unhealthy")
    better = copy("C", pref=3, server_health="normal_priority_unhealthy")
    sel = select_copies(
        [same, better], source_site="A", dials_of_all_copies=LOSSY,
        source_health="low_priority_unhealthy", health_triggered=True,
    )  # fmt: skip
    assert servers(sel) == []
    assert "not better than the source" in reasons(sel)["B"]
    sel = select_copies(
        [same, better], source_site="A", dials_of_all_copies=LOSSY,
        source_health="high_priority_unhealthy", health_triggered=True,
    )  # fmt: skip
    assert servers(sel) == ["B", "C"]


def test_unknown_server_health_is_a_value_error():
    """A misspelt health level is refused rather than ranked."""
    with pytest.raises(ValueError, match="unknown server health"):
        copy("B", server_health="sick")
    with pytest.raises(ValueError, match="unknown server health"):
        select_copies([], source_site="A", dials_of_all_copies=LOSSY, source_health="sick")
