"""Resource definitions: attribute tables shared by the API, the store and OpenAPI."""
