"""The append-only decision history (APR-3, SEC-4): a hash chain per request. Pure.

Every 审批记录 row of a request carries 前序校验 (the previous row's hash) and 本条校验 =
SHA-256 over 前序校验 and the row's content (request, step, decision, who, to whom, when,
comment). The request keeps 记录校验 = ``<rows>:<last hash>``, so removing the newest row is
seen as well as editing or removing any other.

Rows are written unsealed (the link page writes one the moment a person decides) and sealed
by the approvals job, the only writer of hashes, in Id order. A sealed row can never become
unsealed again without the count in 记录校验 telling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 16
SHORT = 16  # hex digits kept: 64 bits, plenty against edits by hand (this is not a signature)


def _when(at: Any) -> str:
    if isinstance(at, datetime):
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(at or "")


def content(row: Any) -> str:
    """The fields a hash covers, as one canonical line (``row``: a decision record or dict)."""
    get = (lambda k: row.get(k)) if isinstance(row, dict) else (lambda k: getattr(row, k, None))
    parts = [get("request"), get("step"), get("decision"), get("by"), get("to"), _when(get("at")), get("comment")]
    return "\x1f".join("" if p is None else str(p).strip() for p in parts)


def digest(prev: str, row: Any) -> str:
    return _digest(prev, content(row))


def _digest(prev: str, text: str) -> str:
    return hashlib.sha256(f"{prev}\x1e{text}".encode()).hexdigest()[:SHORT]


def head(count: int, last: str) -> str:
    return f"{count}:{last}"


def parse_head(text: str | None) -> tuple[int, str] | None:
    try:
        n, h = str(text or "").strip().split(":", 1)
        return int(n), h
    except ValueError:
        return None


@dataclass
class Verdict:
    problems: list[tuple[int | None, str]]  # (decision row Id or None for the request, what is wrong)
    seals: dict[int, tuple[str, str]]  # unsealed row Id → (prev_hash, hash) to write
    head: str  # 记录校验 once the seals are written
    hashes: dict[int, str | None] = field(default_factory=dict)  # 本条校验 of the rows with a problem

    def quiet(self, stored_head: str | None) -> bool:
        """Nothing to write or say: no problem, no seal, 记录校验 as stored."""
        n, last = parse_head(self.head) or (0, GENESIS)
        return not self.problems and not self.seals and (head(n, last) if n else None) == (stored_head or None)


def check(decisions: Sequence[Any], stored_head: str | None) -> Verdict:
    """Verify the sealed rows of one request (in Id order) and seal the unsealed ones after them.

    A sealed row whose hash does not match its content was edited; a broken link between
    rows means one was removed; fewer sealed rows than 记录校验 counts means the newest was
    removed or unsealed. Unsealed rows found before a sealed one are reported, not sealed.
    """
    chain = Chain()
    for r in sorted(decisions, key=lambda r: r.Id):
        chain.add(r)
    return chain.verdict(stored_head)


class Chain:
    """:func:`check` as a fold: one request's rows are added in Id order and only what the
    verdict needs is kept (the unsealed rows' content, the problems), so a full read can stream
    every decision of every request a page at a time instead of holding them (issue 12)."""

    __slots__ = ("prev", "sealed", "pending", "problems", "hashes")

    def __init__(self) -> None:
        self.prev = GENESIS  # the last sealed row's hash
        self.sealed = 0
        self.pending: list[tuple[int, str]] | None = None  # unsealed rows since it: (Id, content)
        self.problems: list[tuple[int | None, str]] | None = None
        self.hashes: dict[int, str | None] | None = None  # 本条校验 of the rows with a problem

    def _problem(self, rid: int, why: str, value: str | None) -> None:
        if self.problems is None:
            self.problems, self.hashes = [], {}
        self.problems.append((rid, why))
        self.hashes[rid] = value  # type: ignore[index]  # set with problems

    def add(self, r: Any) -> None:
        if not r.hash:
            if self.pending is None:
                self.pending = []
            self.pending.append((r.Id, content(r)))
            return
        for rid, _ in self.pending or ():  # unsealed rows are found before a sealed one
            self._problem(rid, "未封存的记录夹在已封存的记录之间：校验值被清除过", None)
        self.pending = None
        self.sealed += 1
        if (r.prev_hash or "") != self.prev:
            self._problem(r.Id, "前序校验与上一条记录不符：之前的记录被删除或改动过", r.hash)
        if digest(r.prev_hash or "", r) != r.hash:
            self._problem(r.Id, "记录内容与本条校验不符：这条审批记录被改动过", r.hash)
        self.prev = r.hash

    def verdict(self, stored_head: str | None) -> Verdict:
        problems = list(self.problems or ())
        seals: dict[int, tuple[str, str]] = {}
        prev = self.prev
        for rid, text in self.pending or ():
            h = _digest(prev, text)
            seals[rid] = (prev, h)
            prev = h
        stored = parse_head(stored_head)
        if stored is not None:
            if self.sealed < stored[0]:
                problems.append((None, f"审批记录少了 {stored[0] - self.sealed} 条（记录校验记有 {stored[0]} 条）：有记录被删除"))
            elif self.sealed == stored[0] and self.sealed and stored[1] != self.prev:
                problems.append((None, "最后一条审批记录与记录校验不符：记录被改动或替换过"))
        elif str(stored_head or "").strip():
            problems.append((None, "记录校验的格式被改动过"))
        elif self.sealed:
            problems.append((None, "记录校验被清除：无法确认最后一条审批记录是否被删除"))
        return Verdict(problems, seals, head(self.sealed + len(seals), prev), dict(self.hashes or {}))
