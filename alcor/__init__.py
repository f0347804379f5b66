"""alcor: a cloud network control plane (VPC SDN) in one asyncio process."""

__version__ = "0.1.0"
