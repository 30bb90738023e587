"""Command-line entry points (the emulator's is in ``emulator/cli.py``)."""
