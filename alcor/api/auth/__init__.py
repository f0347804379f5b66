"""Authentication strategies: turn a request's headers into a Caller."""
