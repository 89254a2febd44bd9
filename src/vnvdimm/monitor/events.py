"""Monitor events (SHUTDOWN, STOP, RESUME, POWERDOWN...) and who listens to them."""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    Listener = Callable[["Event"], None]


class Event:
    """One QMP event: `{"timestamp": ..., "event": name, "data": ...}`; immutable."""

    __slots__ = ("data", "name", "timestamp")

    def __init__(self, name: str, data: dict[str, object] | None = None,
                 timestamp: tuple[int, int] | None = None) -> None:
        self.name: Final = name
        self.data: Final = data
        self.timestamp: Final = _now() if timestamp is None else timestamp

    def to_json(self) -> dict[str, object]:
        message: dict[str, object] = {
            "timestamp": {"seconds": self.timestamp[0], "microseconds": self.timestamp[1]},
            "event": self.name,
        }
        if self.data is not None:
            message["data"] = self.data
        return message


def _now() -> tuple[int, int]:
    ns = time.time_ns()
    return ns // 1_000_000_000, (ns // 1000) % 1_000_000


class EventBus:
    """Fan-out of events to every connected QMP monitor."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, name: str, data: dict[str, object] | None = None) -> Event:
        event = Event(name, data)
        for listener in list(self._listeners):
            listener(event)
        return event
