"""Issue 22: triggers that start together take turns, a few per turn of the event loop, first come first served."""

from __future__ import annotations

import asyncio
from collections import Counter

from airflow_provider_plusofon.webhooks.watch import Turns


def test_a_burst_goes_through_twenty_a_turn_in_the_order_it_came():
    async def main() -> tuple[list[int], Counter]:
        turns, order, per_tick, tick = Turns(per_turn=20), [], Counter(), [0]
        running = True

        async def ticker() -> None:
            while running:
                tick[0] += 1
                await asyncio.sleep(0)

        async def starter(number: int) -> None:
            await turns.take()
            order.append(number)
            per_tick[tick[0]] += 1

        clock = asyncio.create_task(ticker())
        await asyncio.gather(*(starter(n) for n in range(95)))
        running = False
        await clock
        return order, per_tick

    order, per_tick = asyncio.run(main())
    assert order == list(range(95))
    assert max(per_tick.values()) == 20 and len(per_tick) == 5  # 20, 20, 20, 20, 15


def test_a_caller_cancelled_while_waiting_does_not_hold_up_the_others():
    async def main() -> list[int]:
        turns, done = Turns(per_turn=1), []

        async def starter(number: int) -> None:
            await turns.take()
            done.append(number)

        tasks = [asyncio.create_task(starter(n)) for n in range(3)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return done

    assert asyncio.run(main()) == [0, 2]
