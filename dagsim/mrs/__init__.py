"""Mailbox moves: migration batches whose copied mailboxes become logs on their target (DESIGN 3.8)."""

from dagsim.mrs.service import MailboxReplicationService, MoveRecord

__all__ = ["MailboxReplicationService", "MoveRecord"]
