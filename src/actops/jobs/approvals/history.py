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
from dataclasses import dataclass
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
    return hashlib.sha256(f"{prev}\x1e{content(row)}".encode()).hexdigest()[:SHORT]


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


def check(decisions: Sequence[Any], stored_head: str | None) -> Verdict:
    """Verify the sealed rows of one request (in Id order) and seal the unsealed ones after them.

    A sealed row whose hash does not match its content was edited; a broken link between
    rows means one was removed; fewer sealed rows than 记录校验 counts means the newest was
    removed or unsealed. Unsealed rows found before a sealed one are reported, not sealed.
    """
    rows = sorted(decisions, key=lambda r: r.Id)
    problems: list[tuple[int | None, str]] = []
    seals: dict[int, tuple[str, str]] = {}
    prev, sealed = GENESIS, 0
    last_sealed_pos = max((i for i, r in enumerate(rows) if r.hash), default=-1)
    for i, r in enumerate(rows):
        if r.hash:
            sealed += 1
            if (r.prev_hash or "") != prev:
                problems.append((r.Id, "前序校验与上一条记录不符：之前的记录被删除或改动过"))
            if digest(r.prev_hash or "", r) != r.hash:
                problems.append((r.Id, "记录内容与本条校验不符：这条审批记录被改动过"))
            prev = r.hash
        elif i < last_sealed_pos:
            problems.append((r.Id, "未封存的记录夹在已封存的记录之间：校验值被清除过"))
        else:
            h = digest(prev, r)
            seals[r.Id] = (prev, h)
            prev = h
    stored = parse_head(stored_head)
    if stored is not None:
        if sealed < stored[0]:
            problems.append((None, f"审批记录少了 {stored[0] - sealed} 条（记录校验记有 {stored[0]} 条）：有记录被删除"))
        elif sealed == stored[0] and sealed and rows and stored[1] != _last_sealed(rows):
            problems.append((None, "最后一条审批记录与记录校验不符：记录被改动或替换过"))
    elif str(stored_head or "").strip():
        problems.append((None, "记录校验的格式被改动过"))
    elif sealed:
        problems.append((None, "记录校验被清除：无法确认最后一条审批记录是否被删除"))
    return Verdict(problems, seals, head(sealed + len(seals), prev))


def _last_sealed(rows: Sequence[Any]) -> str:
    return next((r.hash for r in reversed(rows) if r.hash), GENESIS)
