"""Run the reference agent as `python -m alcor.agent`."""

from alcor.agent.cli import agent

agent(prog_name="python -m alcor.agent")
