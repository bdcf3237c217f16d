"""Key maps of a :class:`~actops.store.Store`: a table's ``{key: Id}`` and ``{Id: key}``, read
once per store, and the keys of the rows it has read, so links are turned into keys without
reading a linked table's whole key column when a few rows are enough."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BY_ID = 100  # linked keys looked up by Id at most (KeyMaps.keys_of) …
BY_ID_CALLS = 4  # … and in at most this many calls per table and store


class KeyMaps:
    """Mixed into :class:`~actops.store.Store` (which gives ``table``)."""

    def __init__(self) -> None:
        self._key_ids: dict[str, dict[str, int]] = {}
        self._id_keys: dict[str, dict[int, str]] = {}
        # Keys of the rows this store read, per table, both ways ({Id: key or None}, {key: Id}),
        # and how many calls looked linked keys up by Id (see keys_of).
        self._seen: dict[str, dict[int, str | None]] = {}
        self._seen_ids: dict[str, dict[str, int]] = {}
        self._by_id_calls: dict[str, int] = {}

    def table(self, name: str) -> Any:
        raise NotImplementedError

    def key_ids(self, name: str) -> dict[str, int]:
        """``{key: Id}`` of table ``name``, read once per store (for writing links)."""
        if name not in self._key_ids:
            self._key_ids[name] = self.table(name).ids_by_key()
        return self._key_ids[name]

    def id_keys(self, name: str) -> dict[int, str]:
        """``{Id: key}`` of table ``name`` (for reading links), read and inverted once per store
        (reading a link asks it once per row: inverting it each time made a read of N rows
        cost N × the linked table's size)."""
        if name not in self._id_keys:
            self._id_keys[name] = {i: k for k, i in self.key_ids(name).items()}
        return self._id_keys[name]

    def forget_keys(self, name: str) -> None:
        self._key_ids.pop(name, None)
        self._id_keys.pop(name, None)
        self._seen.pop(name, None)
        self._seen_ids.pop(name, None)

    def _whole_map(self, name: str) -> bool:
        return name in self._key_ids or name in self._id_keys

    def learn_keys(self, name: str, pairs: Iterable[tuple[int, Any]], every: bool = False) -> None:
        """Remember the ``(Id, key)`` of rows read from table ``name``; ``every``: they are all
        its rows, so they are its key map (as :meth:`key_ids` would have read it)."""
        seen, ids = self._seen.setdefault(name, {}), self._seen_ids.setdefault(name, {})
        got = [(i, None if k is None else str(k)) for i, k in pairs]
        for i, key in got:
            seen[i] = key
            if key is not None:
                ids[key] = i
        if every and not self._whole_map(name):
            self._key_ids[name] = {key: i for i, key in sorted(got) if key is not None}

    def learned_every(self, name: str) -> None:
        """Every row of table ``name`` was read (page by page) and learned: its key map."""
        if not self._whole_map(name):
            self._key_ids[name] = dict(self._seen_ids.get(name, {}))

    def keys_of(self, name: str, ids: Iterable[int], few: bool = False) -> dict[int, str]:
        """``{Id: key}`` for these Ids of table ``name`` (an Id without a row or a key is left
        out): from its key map when this store has it, else from the rows it read. The rest
        are read by Id (``Id in …``, 50 a call) when the rows asking came from a filtered read
        (``few``) and they are at most ``BY_ID`` (a read of a few requests names a few linked
        rows: reading the linked table's whole key column would cost a call per 1,000 rows),
        at most ``BY_ID_CALLS`` such calls per table and store; otherwise the key map is read."""
        from actops.nocodb import F

        wanted = set(ids)
        if not self._whole_map(name):
            seen = self._seen.setdefault(name, {})
            missing = sorted(wanted - seen.keys())
            calls = -(-len(missing) // 50)
            if not missing or (few and len(missing) <= BY_ID
                               and self._by_id_calls.get(name, 0) + calls <= BY_ID_CALLS):
                t = self.table(name)
                key = t.title(t.spec.key)
                for i in range(0, len(missing), 50):
                    chunk = missing[i:i + 50]
                    found = {r["Id"]: r.get(key) for r in t.table.all(t.where(F("Id").in_(chunk)), [key])}
                    self._by_id_calls[name] = self._by_id_calls.get(name, 0) + 1
                    self.learn_keys(name, ((x, found.get(x)) for x in chunk))
                return {i: k for i in wanted if (k := seen.get(i)) is not None}
        full = self.id_keys(name)
        return {i: full[i] for i in wanted if i in full}

    def ids_of(self, name: str, keys: Iterable[str]) -> dict[str, int]:
        """``{key: Id}`` for these keys of table ``name`` (a key no row has is left out): from
        the rows this store read when all of them are there, else from its key map."""
        wanted = set(keys)
        if not self._whole_map(name):
            seen = self._seen_ids.get(name, {})
            if wanted <= seen.keys():
                return {k: seen[k] for k in wanted}
        full = self.key_ids(name)
        return {k: full[k] for k in wanted if k in full}
