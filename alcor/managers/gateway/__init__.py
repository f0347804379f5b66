"""Gateway manager: Zeta gateways registered through the durable outbox (southbound §8)."""
