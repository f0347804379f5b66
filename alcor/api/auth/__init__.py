"""Caller authentication strategies: noauth, token and keystone."""
