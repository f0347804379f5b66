"""The internal bus: commands and events."""

from alcor.bus.bus import Bus, NoHandler
from alcor.bus.messages import Command, Event

__all__ = ["Bus", "Command", "Event", "NoHandler"]
