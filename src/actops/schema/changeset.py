"""A plan of `schema apply`: the changes it will make and the drift it only reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    what: str  # "create base", "add field", "update description", …
    where: str  # base / table / field or view
    run: Callable[[], Any] = field(repr=False, default=lambda: None)

    def __str__(self) -> str:
        return f"+ {self.what}: {self.where}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def apply(self, log: Callable[[str], None] = lambda s: None) -> None:
        for ch in self.changes:
            log(str(ch))
            ch.run()

    def render(self) -> str:
        lines = [str(c) for c in self.changes]
        lines += [f"! drift (left as is): {d}" for d in self.drift]
        lines.append(f"{len(self.changes)} changes, {len(self.drift)} drift notes")
        return "\n".join(lines)
