"""The reference host agent (`alcor agent`): in-memory, wire-compatible with ACA."""

from .agent import Agent, AgentConfig
from .apply import Applier, ApplyOptions
from .pool import AgentPool
from .state import AgentState

__all__ = ["Agent", "AgentConfig", "AgentPool", "AgentState", "Applier", "ApplyOptions"]
