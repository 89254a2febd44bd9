"""Immutable value objects, without `dataclasses` (whose import alone costs
more start-up time than QEMU needs to greet a QMP client)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


class Value:
    """Equality, hash and repr from the fields named in `_fields`.

    A subclass lists its constructor's parameters in `_fields`, in order, and
    sets each once in ``__init__`` as an attribute of the same name (annotated
    ``Final``, so that mypy keeps it read-only)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"
