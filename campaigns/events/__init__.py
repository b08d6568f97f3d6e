"""Events worth telling someone, their outbox, and where they are sent (channels, webhooks)."""
