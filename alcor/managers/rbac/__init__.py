"""RBAC policies: which projects may use an object (shared) or a network (external)."""
