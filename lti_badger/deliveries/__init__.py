"""Deliveries: the outbox rows an award change writes in its own transaction, and the workers
that push them to the LMS gradebook (AGS), the learner's mailbox and institution webhooks."""
