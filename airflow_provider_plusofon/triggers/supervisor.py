"""What a trigger asks of the triggerer's process: a connection (through its supervisor, one at a
time), and a garbage collector that leaves the event loop alone.

Reading a connection (and masking its token) are requests to the supervisor. They run through
asgiref's ``sync_to_async``, not ``asyncio.to_thread``: from a ``sync_to_async`` thread they run on
the triggerer's loop, where from a plain thread they would start a second loop on the loop's own
socket (Airflow 3.1's triggerer dies of that). And they run one at a time: on Airflow 3.0 and 3.1
the channel to the supervisor is not safe to use from two threads at once. Triggers that start
together and read the same connection share one read of it.

A full collection of CPython's garbage collector walks every object of the process, Airflow's own
among them: with a thousand triggers waiting it holds the loop for longer than Airflow's lag
budget. :func:`freeze_long_lived_objects` freezes what the process holds when the first of our
triggers starts (``[plusofon] triggerer_gc_freeze``, on by default).
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

from airflow_provider_plusofon.api import PlusofonConnectionConfig
from airflow_provider_plusofon.compat import conf
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

T = TypeVar("T")

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[Any]]] = (
    weakref.WeakKeyDictionary()
)


async def one_at_a_time(call: Callable[[], T]) -> T:
    """``call()`` in a ``sync_to_async`` thread, never while another such call of ours runs."""
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        return await sync_to_async(call, thread_sensitive=False)()


async def connection_config(conn_id: str) -> PlusofonConnectionConfig:
    """The connection's settings (its token masked), read once for the triggers asking at once."""
    reads = _reads.setdefault(asyncio.get_running_loop(), {})
    pending = reads.get(conn_id)
    if pending is None:
        pending = reads[conn_id] = asyncio.ensure_future(one_at_a_time(lambda: PlusofonHook(conn_id).config))
        pending.add_done_callback(lambda done: reads.pop(conn_id, None) if reads.get(conn_id) is done else None)
    # shield: one trigger cancelled (its task timed out) must not cancel the read the others await
    config: PlusofonConnectionConfig = await asyncio.shield(pending)
    return config


_frozen = False


def freeze_long_lived_objects() -> None:
    """Once per process: ``gc.freeze()`` what exists now, unless ``[plusofon] triggerer_gc_freeze`` is off.

    No collection first: that would hold the loop as long as the pauses this avoids. What is already
    garbage stays (once); what triggers allocate from now on is collected as ever.
    """
    global _frozen
    if _frozen:
        return
    _frozen = True
    if conf.getboolean("plusofon", "triggerer_gc_freeze", fallback=True):
        gc.freeze()
