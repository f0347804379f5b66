"""The embedded SQLite store."""

from alcor.store.store import Store, Transaction, current_transaction

__all__ = ["Store", "Transaction", "current_transaction"]
