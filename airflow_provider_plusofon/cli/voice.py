"""What the command line shows: its own lines and exit codes, never Airflow's (unless ``--debug``).

Importing Airflow, reading its configuration and looking a Variable up in its database log lines,
warnings and whole tracebacks (59 lines of SQL before the one line that mattered, on a host with
no migrated database). Those are Airflow's to say to Airflow's users; a command's user gets what
the command says. So a command runs with everything Airflow and its libraries print, log or warn
kept out of sight, and says its results on standard output and its own messages on standard
error, through the two streams it is handed. ``--debug`` shows everything, tracebacks included.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from airflow_provider_plusofon.exceptions import PlusofonError, WebhookSpecError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
PROG = "plusofon-webhooks"
# The Airflow home a command borrows on a host that has none (see borrowed_airflow_home).
BORROWED_HOME_PREFIX = "plusofon-webhooks-airflow-home-"


@dataclass(frozen=True)
class Streams:
    """Where a command speaks: its results (``out``) and its own messages (``err``)."""

    out: TextIO
    err: TextIO

    def say(self, text: str) -> None:
        """One of the command's own messages, on standard error."""
        print(text, file=self.err)


Command = Callable[[argparse.Namespace, Streams], int]


def execute(run: Command, args: argparse.Namespace) -> int:
    """Run one command: its results on standard output, an error as one line on standard error,
    nothing of Airflow's unless ``--debug``; the exit code."""
    streams = Streams(sys.stdout, sys.stderr)
    if getattr(args, "debug", False):
        # Everything in sight, but results alone on standard output (Airflow 3.0 logs there).
        with contextlib.redirect_stdout(sys.stderr):
            return int(run(args, streams))
    try:
        with airflow_kept_quiet():
            return int(run(args, streams))
    except Exception as error:
        for line in error_lines(error):
            streams.say(f"{PROG}: {line}")
        return EXIT_ERROR


def error_lines(error: Exception) -> list[str]:
    """How an error reads: each problem of invalid specs on a line, anything else on one line."""
    if isinstance(error, WebhookSpecError):
        return list(error.problems)
    kind = "" if isinstance(error, PlusofonError) else f"{type(error).__name__}: "
    return [f"{kind}{' '.join(str(error).split())[:500]}"]


@contextlib.contextmanager
def airflow_kept_quiet() -> Iterator[None]:
    """Whatever is printed, logged or warned meanwhile goes nowhere: the command's own lines go
    through the streams it was handed before this began."""
    sink = io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)  # handlers Airflow bound to the real streams log nothing
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


@contextlib.contextmanager
def borrowed_airflow_home() -> Iterator[None]:
    """
    On a host with no Airflow home (``AIRFLOW_HOME`` unset and no ``~/airflow``), a throwaway home
    for this process, removed when it ends: importing Airflow would otherwise create ``~/airflow``
    (a configuration file, logs) in the user's home. With no home there is no metadata database
    to read either, which a lookup then says (see :mod:`.airflow_host`).
    """
    if "AIRFLOW_HOME" in os.environ or (Path.home() / "airflow").exists():
        yield
        return
    with tempfile.TemporaryDirectory(prefix=BORROWED_HOME_PREFIX) as home:
        os.environ["AIRFLOW_HOME"] = home
        try:
            yield
        finally:
            del os.environ["AIRFLOW_HOME"]


def airflow_home_said() -> str:
    """Which Airflow home this process has, as a message names it."""
    home = os.environ.get("AIRFLOW_HOME", "")
    if home and Path(home).name.startswith(BORROWED_HOME_PREFIX):
        return "AIRFLOW_HOME is not set and ~/airflow does not exist"
    if not home:
        return f"AIRFLOW_HOME is not set, so Airflow's home is {Path.home() / 'airflow'}"
    return f"AIRFLOW_HOME={home}"
