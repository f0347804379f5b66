"""Flavors and service profiles."""
