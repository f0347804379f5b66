"""Run the alcor CLI as `python -m alcor`."""

from alcor.cli import main

main()
