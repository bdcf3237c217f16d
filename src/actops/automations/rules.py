"""Declared reactions to table edits: ``automations/*.yaml``, loaded and checked.

Each file holds ``rules:``, a list of::

    - name: intake-reports          # lower-case letters, digits and -; the URL /hooks/<name>
      table: reports                # a table name from schema/
      events: [insert]              # insert and/or update
      condition: {field: code, op: blank}   # optional; see ``OPS``
      wake: intake                  # a job from src/actops/registry.py
      description: …                # optional, for people

A rule only ever asks its job to look *now* (``actops serve`` wakes it in the background);
the job's schedule stays the source of truth, so a webhook that is lost, late or repeated
costs at most one poll interval and never a second action.

The condition is checked by ``actops serve`` on the rows NocoDB sends with the event, not
by NocoDB (its hook filters fire only on a transition into the condition). When the rows
lack the field — a column renamed in the grid, an empty body — the job is woken anyway:
a needless run is cheap, a missed one waits for the poll.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actops import config
from actops.errors import ConfigError
from actops.schema.spec import FieldSpec, TableSpec, load_schema

EVENTS = ("insert", "update")
TITLE_PREFIX = "actops:"  # the NocoDB hooks actops made (and may change or delete) are titled so
# op → whether it takes a ``value``
OPS: dict[str, bool] = {"eq": True, "neq": True, "in": True, "not_in": True,
                        "blank": False, "not_blank": False, "changed": False}
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,47}$")
RULE_KEYS = {"name", "table", "events", "condition", "wake", "description"}
CONDITION_KEYS = {"field", "op", "value"}


class RulesError(ConfigError):
    """automations/ says something that cannot work; the message lists every problem."""


@dataclass(frozen=True)
class Condition:
    field: str  # field name from schema/
    op: str
    value: Any = None
    title: str = ""  # the column title NocoDB sends the field under (its zh title)

    def holds(self, row: Mapping[str, Any], before: Mapping[str, Any] | None) -> bool | None:
        """Whether ``row`` meets the condition; None when the row does not carry the field.
        ``before`` is the row before an update (None for an insert: everything "changed")."""
        if self.title not in row:
            return None
        v = row[self.title]
        if self.op == "changed":
            return before is None or self.title not in before or before[self.title] != v
        if self.op in ("blank", "not_blank"):
            empty = v is None or (isinstance(v, str) and not v.strip())
            return empty if self.op == "blank" else not empty
        values = self.value if isinstance(self.value, list | tuple) else [self.value]
        found = _text(v) in {_text(x) for x in values}
        return found if self.op in ("eq", "in") else not found

    def __str__(self) -> str:
        return f"{self.field} {self.op}" + (f" {self.value!r}" if OPS[self.op] else "")


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


@dataclass(frozen=True)
class Rule:
    name: str
    table: str
    events: tuple[str, ...]
    wake: str
    condition: Condition | None = None
    description: str = ""
    source: str = ""  # the file it came from, for messages

    def hook_title(self, event: str) -> str:
        return f"{TITLE_PREFIX}{self.name}:{event}"

    def wants(self, event: Mapping[str, Any] | None) -> bool:
        """Whether a delivered event should wake the job: no condition, a row meeting it,
        or nothing to judge by (see the module doc)."""
        if self.condition is None:
            return True
        data = event.get("data") if isinstance(event, Mapping) else None
        rows = data.get("rows") if isinstance(data, Mapping) else None
        if not isinstance(rows, list) or not rows:
            return True
        previous = data.get("previous_rows")
        before = {r.get("Id"): r for r in previous if isinstance(r, Mapping)} if isinstance(previous, list) else {}
        verdicts = [self.condition.holds(r, before.get(r.get("Id"))) if isinstance(r, Mapping) else None
                    for r in rows]
        return any(v is None or v for v in verdicts)


def rules_dir() -> Path:
    """``ACTOPS_AUTOMATIONS_DIR``, default ``automations/`` in the repo."""
    return Path(config.get("ACTOPS_AUTOMATIONS_DIR") or config.repo_root() / "automations")


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(config.repo_root().resolve()).as_posix()
    except ValueError:
        return str(path)


def _tables(specs: Iterable[Any]) -> dict[str, TableSpec]:
    return {t.name: t for b in specs for t in b.tables}


def _hint(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_rules(directory: Path | None = None, specs: Sequence[Any] | None = None) -> tuple[Rule, ...]:
    """Every rule of ``directory/*.yaml``, checked against schema/. Raises :class:`RulesError`
    listing each problem as ``file, rule, field: what is wrong; what to do``. Whether the
    woken job exists is :func:`missing_jobs`' question (``apply`` reports it per rule)."""
    directory = directory or rules_dir()
    tables = _tables(specs if specs is not None else load_schema())
    problems: list[str] = []
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    if not directory.is_dir():
        raise RulesError(f"{directory}: no such directory; create it or set ACTOPS_AUTOMATIONS_DIR")
    for path in sorted(directory.glob("*.yaml")):
        where = _shown(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{where}: not valid YAML ({str(exc).splitlines()[0]}); fix the file")
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict) or set(doc) != {"rules"} or not isinstance(doc["rules"], list):
            problems.append(f"{where}: expected one key `rules:` holding a list of rules")
            continue
        for i, raw in enumerate(doc["rules"], 1):
            rule, errs = _rule(raw, i, where, tables)
            problems += errs
            if rule is None:
                continue
            if rule.name in seen:
                problems.append(f"{where}, rule {rule.name}, name: also declared in {seen[rule.name]}; "
                                "rule names must be unique (they are URLs and hook titles)")
                continue
            seen[rule.name] = where
            rules.append(rule)
    if problems:
        raise RulesError("automations/ has problems:\n  " + "\n  ".join(problems))
    return tuple(rules)


def _rule(raw: Any, i: int, where: str, tables: Mapping[str, TableSpec]) -> tuple[Rule | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}, rule #{i}: expected a mapping with name, table, events, wake"]
    name = raw.get("name")
    label = f"{where}, rule {name}" if isinstance(name, str) and name else f"{where}, rule #{i}"
    errs: list[str] = []

    def bad(field: str, what: str) -> None:
        errs.append(f"{label}, {field}: {what}")

    for k in sorted(set(raw) - RULE_KEYS):
        bad(k, f"unknown key{_hint(k, RULE_KEYS)}; a rule has {', '.join(sorted(RULE_KEYS))}")
    for k in ("name", "table", "events", "wake"):
        if raw.get(k) in (None, "", []):
            bad(k, "missing; every rule needs name, table, events and wake")
    if name not in (None, "") and not (isinstance(name, str) and NAME_RE.match(name)):
        bad("name", f"{name!r} is not a valid rule name; use lower-case letters, digits and - "
                    "(at most 48 characters, starting with a letter)")
    table = tables.get(raw.get("table")) if isinstance(raw.get("table"), str) else None
    if raw.get("table") not in (None, "") and table is None:
        bad("table", f"no table {raw.get('table')!r} in schema/{_hint(raw.get('table'), tables)}; "
                     "use a table's `name:` from schema/*/*.yaml")
    events = raw.get("events")
    if isinstance(events, str):
        events = [events]
    if events not in (None, "", []):
        if not isinstance(events, list) or any(e not in EVENTS for e in events):
            bad("events", f"{raw.get('events')!r}: use a list of {' and/or '.join(EVENTS)}")
        elif len(set(events)) != len(events):
            bad("events", f"{events!r} names an event twice")
    wake = raw.get("wake")
    if wake not in (None, "") and not isinstance(wake, str):
        bad("wake", "must be a job name from src/actops/registry.py")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        bad("description", "must be text")
    condition = None
    if raw.get("condition") is not None:
        condition, cond_errs = _condition(raw["condition"], table, events if isinstance(events, list) else [])
        errs += [f"{label}, condition: {e}" for e in cond_errs]
    if errs:
        return None, errs
    return Rule(name=name, table=table.name, events=tuple(events), wake=wake, condition=condition,
                description=description.strip(), source=where), []


def _condition(raw: Any, table: TableSpec | None, events: list[str]) -> tuple[Condition | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["expected {field: <name>, op: <op>, value: <value>}"]
    errs = [f"unknown key {k!r}; a condition has field, op and value" for k in sorted(set(raw) - CONDITION_KEYS)]
    op = raw.get("op")
    if op not in OPS:
        errs.append(f"op {op!r}: use one of {', '.join(OPS)}")
    elif OPS[op] and "value" not in raw:
        errs.append(f"op {op} needs a value")
    elif not OPS[op] and "value" in raw:
        errs.append(f"op {op} takes no value; remove `value:`")
    elif op in ("in", "not_in") and not isinstance(raw["value"], list):
        errs.append(f"op {op} needs a list as value, e.g. [审批中, 已通过]")
    elif op == "changed" and "update" not in events:
        errs.append("op changed only means something for update events; add update to events")
    field: FieldSpec | None = None
    if table is not None:
        names = {f.name: f for f in table.fields}
        field = names.get(raw.get("field"))
        if field is None:
            errs.append(f"field {raw.get('field')!r}: no such field in table {table.name}"
                        f"{_hint(raw.get('field'), names)}; use a field's `name:` from schema/")
        elif field.computed:
            errs.append(f"field {field.name} is computed by NocoDB; pick a field people or jobs write")
        elif field.type == "select" and op in ("eq", "neq", "in", "not_in") and not errs:
            values = raw["value"] if isinstance(raw["value"], list) else [raw["value"]]
            for v in values:
                if v not in field.options:
                    errs.append(f"value {v!r} is not an option of {field.name} "
                                f"({', '.join(field.options)}); use one of them")
    if errs or field is None:
        return None, errs
    value = tuple(raw["value"]) if isinstance(raw.get("value"), list) else raw.get("value")
    return Condition(field.name, op, value, title=field.key_column_title), []


def missing_jobs(rules: Iterable[Rule], jobs: Iterable[str] | None = None) -> dict[str, str]:
    """``{rule name: what to do}`` for each rule whose ``wake`` job is not in the registry."""
    if jobs is None:
        from actops.registry import JOBS

        jobs = [j.name for j in JOBS]
    known = list(jobs)
    return {r.name: (f"{r.source}, rule {r.name}, wake: no job {r.wake!r} in the registry "
                     f"(known: {', '.join(known)}){_hint(r.wake, known)}; add the job to "
                     "src/actops/registry.py or fix the name")
            for r in rules if r.wake not in known}
