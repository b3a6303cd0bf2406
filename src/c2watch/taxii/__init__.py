"""TAXII 2.1: the hub's API (views on a storage contract) and the agent's side of sync (push the outbox, pull)."""
