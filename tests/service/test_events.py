"""signagent.service.events: publishing from threads into asyncio subscribers, bounded buffers with an overflow
marker, subscriber caps, closing, and who may see which event."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from signagent.service.events import (
    CERTIFICATES_CHANGED,
    OVERFLOW,
    REQUEST_STATUS,
    TOKEN_INSERTED,
    Event,
    EventBus,
)

GUARD = 10.0  # seconds: a hang guard only


def run(coro: object) -> object:
    return asyncio.run(asyncio.wait_for(coro, GUARD))  # type: ignore[arg-type]


def test_events_published_from_threads_arrive_in_order() -> None:
    bus = EventBus()

    async def main() -> list[Event]:
        sub = bus.subscribe()
        workers = [threading.Thread(target=lambda n=n: bus.publish(TOKEN_INSERTED, {"n": n})) for n in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        got = [await sub.get(GUARD) for _ in range(3)]
        sub.close()
        return [e for e in got if e is not None]

    got = run(main())
    assert isinstance(got, list) and len(got) == 3
    assert [e.id for e in got] == [1, 2, 3] and sorted(e.data["n"] for e in got) == [0, 1, 2]
    assert all(e.kind == TOKEN_INSERTED for e in got)


def test_data_is_copied_and_made_json_ready() -> None:
    bus = EventBus()

    async def main() -> Event | None:
        sub = bus.subscribe()
        data = {"serial": "A1", "when": time}  # a module is not JSON: it becomes its string
        bus.publish(CERTIFICATES_CHANGED, data)
        data["serial"] = "changed later"
        return await sub.get(GUARD)

    event = run(main())
    assert isinstance(event, Event)
    assert event.data["serial"] == "A1" and isinstance(event.data["when"], str)
    with pytest.raises(TypeError):
        bus.publish("", {})


def test_a_slow_subscriber_loses_the_oldest_and_is_told_once() -> None:
    bus = EventBus(queue_size=3)

    async def main() -> tuple[list[Event], list[Event]]:
        slow, fast = bus.subscribe(), bus.subscribe()
        seen_fast: list[Event] = []
        for n in range(5):
            bus.publish(TOKEN_INSERTED, {"n": n})
            got = await fast.get(GUARD)  # the fast one reads as it goes: nothing lost
            assert got is not None
            seen_fast.append(got)
        assert slow.dropped == 2
        seen_slow = []
        while (got := await slow.get(0.05)) is not None:
            seen_slow.append(got)
        return seen_slow, seen_fast

    seen_slow, seen_fast = run(main())  # type: ignore[misc]
    assert [e.data["n"] for e in seen_fast] == [0, 1, 2, 3, 4]
    assert [e.kind for e in seen_slow] == [OVERFLOW, TOKEN_INSERTED, TOKEN_INSERTED, TOKEN_INSERTED]
    assert seen_slow[0].data == {"dropped": 2} and seen_slow[0].id == 2  # the id of the last event lost
    assert [e.data["n"] for e in seen_slow[1:]] == [2, 3, 4]


def test_publishing_never_blocks_on_a_stalled_loop() -> None:
    """A subscriber whose loop does not run (blocked here on purpose) neither blocks publishers nor grows."""
    bus = EventBus(queue_size=4)
    ready, release = threading.Event(), threading.Event()
    result: dict[str, object] = {}

    async def stalled() -> None:
        sub = bus.subscribe()
        ready.set()
        release.wait(GUARD)  # blocks the loop itself
        got = []
        while (event := await sub.get(0.05)) is not None:
            got.append(event)
        result["got"] = got

    thread = threading.Thread(target=lambda: asyncio.run(stalled()))
    thread.start()
    assert ready.wait(GUARD)
    began = time.monotonic()
    for n in range(1000):
        bus.publish(TOKEN_INSERTED, {"n": n})
    assert time.monotonic() - began < GUARD
    release.set()
    thread.join(GUARD)
    got = result["got"]
    assert isinstance(got, list)
    assert got[0].kind == OVERFLOW and got[0].data == {"dropped": 996}
    assert [e.data["n"] for e in got[1:]] == [996, 997, 998, 999]


def test_subscriber_caps_and_closing() -> None:
    bus = EventBus(max_subscribers=3, max_per_owner=2)

    async def main() -> None:
        a1, a2 = bus.subscribe("https://a.test"), bus.subscribe("https://a.test")
        with pytest.raises(Exception) as refused:
            bus.subscribe("https://a.test")
        assert getattr(refused.value, "code", None) == "rate_limited"
        local = bus.subscribe(None)
        with pytest.raises(Exception) as full:
            bus.subscribe("https://b.test")
        assert getattr(full.value, "code", None) == "rate_limited"
        assert bus.subscriber_count == 3
        a1.close()
        a1.close()  # idempotent
        assert a1.closed and bus.subscriber_count == 2
        b = bus.subscribe("https://b.test")
        # A reader waiting with no timeout ends when its subscription is closed (from another thread too).
        waiter = asyncio.ensure_future(b.__anext__())
        await asyncio.sleep(0.05)
        threading.Thread(target=b.close).start()
        with pytest.raises(StopAsyncIteration):
            await waiter
        bus.publish(TOKEN_INSERTED, {})
        assert (await a2.get(GUARD)) is not None
        bus.close()
        assert bus.subscriber_count == 0 and local.closed
        assert (await local.get(GUARD)) is not None  # what was buffered before the close is still read
        assert (await local.get(GUARD)) is None
        async with bus.subscribe() as sub:
            bus.publish(TOKEN_INSERTED, {"n": 1})
            got = [e async for e in _first(sub)]
        assert sub.closed and got[0].data == {"n": 1}

    run(main())


async def _first(sub: object) -> object:
    async for event in sub:  # type: ignore[attr-defined]
        yield event
        return


def test_a_filter_chooses_what_is_buffered() -> None:
    """Events a subscriber may not see take no room in its buffer and are not counted as dropped; a filter that
    raises ends that subscriber only."""
    bus = EventBus(queue_size=2)

    async def main() -> None:
        site = bus.subscribe("https://a.test", accept=lambda e: e.visible_to("https://a.test", False))
        broken = bus.subscribe(accept=lambda e: 1 / 0)  # type: ignore[arg-type, return-value]
        for n in range(50):
            bus.publish(REQUEST_STATUS, {"request_id": str(n), "origin": "https://b.test"})
        bus.publish(REQUEST_STATUS, {"request_id": "mine", "origin": "https://a.test"})
        got = await site.get(GUARD)
        assert got is not None and got.data["request_id"] == "mine" and site.dropped == 0
        assert broken.closed and bus.subscriber_count == 1
        assert (await site.get(0.05)) is None

    run(main())


def test_a_subscriber_whose_loop_is_gone_is_dropped() -> None:
    bus = EventBus()

    async def main() -> None:
        bus.subscribe()

    asyncio.run(main())  # the loop closes with the subscription still open
    assert bus.subscriber_count == 1
    bus.publish(TOKEN_INSERTED, {})
    assert bus.subscriber_count == 0


def test_visibility() -> None:
    own = Event(1, REQUEST_STATUS, {"request_id": "r", "status": "approved", "kind": "sign",
                                    "origin": "https://a.test"})
    token = Event(2, TOKEN_INSERTED, {"serial": "1"})
    unknown = Event(3, "something-internal", {})
    assert own.visible_to("https://a.test", False)
    assert not own.visible_to("https://b.test", False)
    assert not own.visible_to(None, False)
    assert own.visible_to(None, True) and own.visible_to("https://b.test", True)
    assert token.visible_to("https://b.test", False) and token.visible_to(None, True)
    assert not token.visible_to(None, False)
    assert not unknown.visible_to("https://a.test", False) and unknown.visible_to(None, True)
    assert Event(4, OVERFLOW, {"dropped": 1}).visible_to("https://a.test", False)
    assert own.to_dict() == {"id": 1, "kind": REQUEST_STATUS, "data": own.data}
