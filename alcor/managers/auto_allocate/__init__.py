"""Auto-allocated topologies (auto-allocated-topology, "get me a network")."""
