"""`alcor bench`: scenarios that measure alcor (or any Neutron-compatible endpoint) honestly."""
