"""gRPC southbound transport and the controller gRPC server."""
