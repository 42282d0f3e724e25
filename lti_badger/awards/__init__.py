"""Awards: the decision that a learner holds an achievement, its changes (revoke, suspend,
reinstate, expire), their audit trail, and the outbox deliveries each change writes."""
