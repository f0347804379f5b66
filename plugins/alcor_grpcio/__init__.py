"""gRPC southbound transport on the C-core grpcio, beside the grpclib one (alcor_grpc)."""
