"""The Zeta gateway's edge: the HTTP client of Zeta's management API.

The gateway manager (alcor/managers/gateway) decides what to call and keeps no HTTP type;
this package speaks it, as the southbound plugins speak gRPC and Kafka for the agents.
"""
