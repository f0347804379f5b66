"""Address scopes: the address spaces subnet pools belong to."""
