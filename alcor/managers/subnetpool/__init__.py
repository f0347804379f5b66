"""Subnet pool manager package."""
