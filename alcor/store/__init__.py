"""The store: one async database interface over SQLite (embedded) or PostgreSQL."""

from alcor.store.db import (
    RetryRequest,
    Row,
    Store,
    Transaction,
    current_transaction,
    open_store,
)

__all__ = ["RetryRequest", "Row", "Store", "Transaction", "current_transaction", "open_store"]
