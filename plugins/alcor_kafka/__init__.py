"""Kafka southbound transport (aiokafka)."""
