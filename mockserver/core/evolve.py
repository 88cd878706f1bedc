"""`dataclasses.replace` for the frozen, slotted dataclasses a request passes through on the hot path.

`replace` looks every field up, builds keyword arguments and calls the generated `__init__`, some
thirty thousand CPU instructions for a dozen fields: more than the rest of what the mock does to
answer a request it has seen before. Copying the slots directly gives the same object for a class
whose `__init__` only assigns its fields (no `__post_init__`, every field an init field), which
`evolver` checks once per class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

Instance = TypeVar("Instance")


def evolver(cls: type[Instance]) -> Callable[..., Instance]:
    """A `replace(instance, **changes)` for `cls`."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or not all(field.init for field in fields) or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} needs dataclasses.replace: its __init__ does more than assign slots")
    names = tuple(field.name for field in fields)
    setter = object.__setattr__
    new = object.__new__

    def evolve(instance: Instance, **changes: Any) -> Instance:
        copy = new(cls)
        for name in names:
            setter(copy, name, changes[name] if name in changes else getattr(instance, name))
        unknown = changes.keys() - set(names)
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
        return copy

    return evolve
