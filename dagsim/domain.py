"""Vocabulary shared by the configuration layer and the model, defined once.

A leaf module: it imports nothing from dagsim, so ``config/`` and ``model/`` can both use it
without an import circle.
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = [
    "COPY_QUEUE_THRESHOLD",
    "REPLAY_QUEUE_THRESHOLD",
    "Cause",
    "Decision",
    "EventKind",
    "MountBlocker",
    "Outcome",
    "Rejection",
    "SelectionVerdict",
    "whole_logs",
]

# Best copy selection's criteria sets compare the copy queue with 10 logs and the replay
# queue with 50 (docs/active-manager.md).
COPY_QUEUE_THRESHOLD = 10
REPLAY_QUEUE_THRESHOLD = 50


def whole_logs(logs: float) -> int:
    """Whole logs in a queue or a loss: a partly written log is not a log yet, as in
    CopyQueueLength; float dust just below a whole counts as that whole."""
    return math.floor(logs + 1e-6)


class Outcome(StrEnum):
    """How a failover or switchover ended, as written in ``failovers.csv``."""

    MOUNTED = "mounted"
    NO_ACCEPTABLE_COPY = "no acceptable copy"
    # A failover waiting for an acceptable copy is taken over by an operator switchover.
    SUPERSEDED = "no acceptable copy; superseded by operator switchover"
    SWITCHOVER_REFUSED = "switchover refused"
    SWITCHOVER_FAILED = "switchover failed; remounted on the source"
    # A Managed Availability failover found no healthier server: the database stays put.
    NO_HEALTHIER_COPY = "no healthier copy; stays on the source"
    IN_PROGRESS = "in progress"  # the run ended first


class Decision(StrEnum):
    """What one step of Active Manager's reasoning about a database was (a decision record's
    ``kind``; :func:`dagsim.text.decision_text` says it in words)."""

    DETECTED = "detected"
    NO_QUORUM = "no_quorum"
    WAITING_FOR_PAM = "waiting_for_pam"
    SELECTION = "selection"  # best copy and server selection ran on the PAM
    SELECTION_ORDER = "selection_order"  # how it sorted the copies
    CANDIDATE = "candidate"  # its verdict on one copy
    NO_CANDIDATE = "no_candidate"
    DIAL_REFUSED = "dial_refused"  # the mount dial refused the loss a copy would take
    NO_ACCEPTABLE_COPY = "no_acceptable_copy"
    ACLL_FAILED = "acll_failed"
    LAST_LOGS_COPIED = "last_logs_copied"
    REPLAY = "replay"
    CANNOT_MOUNT = "cannot_mount"  # the chosen server can no longer mount it
    MOUNTED = "mounted"
    CANNOT_KEEP_MOUNTED = "cannot_keep_mounted"
    SAFETY_NET_RESUBMITS = "safety_net_resubmits"
    SAFETY_NET_UNAVAILABLE = "safety_net_unavailable"
    SAFETY_NET_BACK = "safety_net_back"
    SHADOW_SAFETY_NET = "shadow_safety_net"
    SWITCHOVER_REFUSED = "switchover_refused"
    NO_ACCEPTABLE_TARGET = "no_acceptable_target"
    REDISTRIBUTE_SKIPPED = "redistribute_skipped"
    STALE_PARTITION_MOUNT = "stale_partition_mount"
    STALE_PARTITION_DISMOUNT = "stale_partition_dismount"


class Cause(StrEnum):
    """What started a failover, a switchover or a dismount, or made clients lose their
    server (:func:`dagsim.text.cause_text` says it in words, as ``failovers.csv`` shows it)."""

    SERVER_FAILURE = "server_failure"
    SERVER_RESTORED = "server_restored"
    SITE_FAILURE = "site_failure"
    SITE_RESTORED = "site_restored"
    LINK_FAILED = "link_failed"
    LINK_RESTORED = "link_restored"
    WAN_PARTITION = "wan_partition"
    WAN_HEALED = "wan_healed"
    MAPI_FAILURE = "mapi_failure"
    MAPI_RESTORED = "mapi_restored"
    REPLICATION_FAILURE = "replication_failure"
    REPLICATION_RESTORED = "replication_restored"
    WITNESS_FAILURE = "witness_failure"
    WITNESS_RESTORED = "witness_restored"
    CAS_FAILURE = "cas_failure"
    CAS_RESTORED = "cas_restored"
    LOAD_BALANCER_FAILURE = "load_balancer_failure"
    LOAD_BALANCER_RESTORED = "load_balancer_restored"
    DAG_STOPPED = "dag_stopped"
    DAG_RESTORED = "dag_restored"
    DAG_STARTED = "dag_started"
    STORE_CRASH = "store_crash"
    DATABASE_VOLUME_FAILED = "database_volume_failed"
    LOG_VOLUME_FAILED = "log_volume_failed"
    LOG_VOLUME_FULL = "log_volume_full"
    CANNOT_STAY_MOUNTED = "cannot_stay_mounted"  # another cause left the server unable to mount
    OPERATOR_SWITCHOVER = "operator_switchover"
    SERVER_SWITCHOVER = "server_switchover"
    REDISTRIBUTION = "redistribution"
    HEALTH_RESPONDER = "health_responder"
    DISMOUNT_DATABASE = "dismount_database"
    SWITCHOVER_DISMOUNT = "switchover_dismount"
    HEALTH_DISMOUNT = "health_dismount"


class Rejection(StrEnum):
    """Why best copy and server selection rejects a copy (:func:`dagsim.text.rejection_text`
    says it in words)."""

    EXCLUDED = "excluded"  # its server may not mount now (fact: blocker)
    UNREACHABLE = "unreachable"
    SUSPENDED = "suspended"
    ACTIVATION_SUSPENDED = "activation_suspended"
    POLICY_BLOCKED = "policy_blocked"
    POLICY_INTRASITE_ONLY = "policy_intrasite_only"
    MAXIMUM_ACTIVE_DATABASES = "maximum_active_databases"
    INELIGIBLE_STATUS = "ineligible_status"
    LAG_PRECHECK = "lag_precheck"
    CLIENT_EXPERIENCE_PRECHECK = "client_experience_precheck"
    NOT_HEALTHIER = "not_healthier"  # a failover started by Managed Availability
    LESS_HEALTHY = "less_healthy"  # passes no server health check
    NO_HEALTH_CHECK = "no_health_check"


class MountBlocker(StrEnum):
    """Why Active Manager on a server may not mount a database now (:func:`dagsim.text.blocker_text`)."""

    SERVER_DOWN = "server_down"
    SERVER_STOPPED = "server_stopped"
    NOT_A_MEMBER = "not_a_member"
    NO_QUORUM = "no_quorum"
    NO_QUORUM_PARTITION = "no_quorum_partition"  # in a partition of a stale configuration
    DACP_BIT_0 = "dacp_bit_0"
    MAPI_DOWN = "mapi_down"


class SelectionVerdict(StrEnum):
    """What best copy and server selection made of one copy of the database."""

    RANKED = "ranked"  # worth trying, in the order of the record
    REJECTED = "rejected"  # dropped by BCSS, a switchover pre-check, or because it cannot mount
    DIAL_REFUSED = "dial_refused"  # ranked, but its mount dial refused the logs it would lose


class EventKind(StrEnum):
    """Every kind of event a run records (``EventRecord.kind``, the ``kind`` column of events.csv).

    The recorder refuses any other kind, so a new event must be added here (and to the list
    in docs/expectations.md, which a test keeps equal).
    """

    AUTO_RESEED_RESUME_FAILED = "auto_reseed_resume_failed"
    CAS_FAILED = "cas_failed"
    CAS_RESTORED = "cas_restored"
    CONTENT_INDEX_CHANGED = "content_index_changed"
    COPY_ACTIVATION_SUSPENDED = "copy_activation_suspended"
    COPY_ADDED = "copy_added"
    COPY_DISCONNECTED = "copy_disconnected"
    COPY_FAILED_AND_SUSPENDED = "copy_failed_and_suspended"
    COPY_QUEUE_HIGH = "copy_queue_high"
    COPY_QUEUE_NORMAL = "copy_queue_normal"
    COPY_RECONNECTED = "copy_reconnected"
    COPY_RESUMED = "copy_resumed"
    COPY_RESYNCHRONIZED = "copy_resynchronized"
    COPY_SUSPENDED = "copy_suspended"
    DACP_BIT_SET = "dacp_bit_set"
    DAG_RESTORED = "dag_restored"
    DAG_STARTED = "dag_started"
    DAG_STOPPED = "dag_stopped"
    DATABASE_DISMOUNTED = "database_dismounted"
    DATABASE_MOUNTED = "database_mounted"
    DATABASE_VOLUME_FAILED = "database_volume_failed"
    DATABASE_VOLUME_RESTORED = "database_volume_restored"
    FAILOVER_BLOCKED = "failover_blocked"
    LINK_FAILED = "link_failed"
    LINK_RESTORED = "link_restored"
    LOAD_BALANCER_FAILED = "load_balancer_failed"
    LOAD_BALANCER_RESTORED = "load_balancer_restored"
    LOG_VOLUME_FAILED = "log_volume_failed"
    LOG_VOLUME_FULL = "log_volume_full"
    LOG_VOLUME_RESTORED = "log_volume_restored"
    MAPI_NETWORK_FAILED = "mapi_network_failed"
    MAPI_NETWORK_RESTORED = "mapi_network_restored"
    MOVE_BATCH_COMPLETED = "move_batch_completed"
    MOVE_BATCH_STARTED = "move_batch_started"
    MOVE_FAILED = "move_failed"
    MOVE_RESUMED = "move_resumed"
    MOVE_STALLED = "move_stalled"
    NAMESPACE_SWITCHED = "namespace_switched"
    OPERATOR_ERROR = "operator_error"
    PAM_LOST = "pam_lost"
    PAM_MOVED = "pam_moved"
    QUORUM_LOST = "quorum_lost"
    QUORUM_REGAINED = "quorum_regained"
    REPLAY_QUEUE_HIGH = "replay_queue_high"
    REPLAY_QUEUE_NORMAL = "replay_queue_normal"
    REPLICATION_NETWORK_FAILED = "replication_network_failed"
    REPLICATION_NETWORK_RESTORED = "replication_network_restored"
    SAFETY_NET_RESUBMITTED = "safety_net_resubmitted"
    SEEDING_COMPLETED = "seeding_completed"
    SEEDING_STARTED = "seeding_started"
    SERVER_FAILED = "server_failed"
    SERVER_HEALTH_CHANGED = "server_health_changed"
    SERVER_RESTORED = "server_restored"
    SHIPPING_NETWORK_CHANGED = "shipping_network_changed"
    SITE_FAILED = "site_failed"
    SITE_RESTORED = "site_restored"
    SPLIT_BRAIN = "split_brain"
    STALE_QUORUM = "stale_quorum"
    STORE_CRASHED = "store_crashed"
    STORE_RESTARTED = "store_restarted"
    SWITCHOVER_FAILED = "switchover_failed"
    SWITCHOVER_REFUSED = "switchover_refused"
    SWITCHOVER_REQUESTED = "switchover_requested"
    WAN_HEALED = "wan_healed"
    WAN_PARTITIONED = "wan_partitioned"
    WITNESS_FAILED = "witness_failed"
    WITNESS_RESTORED = "witness_restored"
