"""Mailbox moves: migration batches whose copied mailboxes become logs on their target (docs/mrs.md)."""

from dagsim.mrs.service import MailboxReplicationService, MoveRecord

__all__ = ["MailboxReplicationService", "MoveRecord"]
