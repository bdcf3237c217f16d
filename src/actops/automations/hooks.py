"""`actops automations apply`: one NocoDB webhook per rule and event, kept like the schema.

Each hook is a v3 URL hook (``POST /api/v2/meta/tables/{tableId}/hooks``) that posts the event
(``{{ json event }}``) to ``<ACTOPS_WEBHOOK_URL>/hooks/<rule>`` with the shared secret in
the ``X-Actops-Webhook-Secret`` header. Ours carry titles starting ``actops:``
(``actops:<rule>:<event>``): a rerun leaves a hook that already matches, updates one that
differs (URL, secret, event), deletes ours that no rule declares any more and never touches a
hook someone else made. NocoDB accepts a hook change only as a whole (a partial PATCH answers
400), so an update sends the full hook.

NocoDB shows the secret to whoever can open the hook in its UI and keeps it in its hook log:
it only proves that a call comes from this NocoDB, so give it nothing else to protect.
"""

from __future__ import annotations

import json
import secrets as _secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actops import config
from actops.automations.rules import TITLE_PREFIX, Rule, missing_jobs
from actops.errors import ConfigError, SchemaError

HEADER = "X-Actops-Webhook-Secret"
BODY = "{{ json event }}"
MIN_SECRET_CHARS = 32
SECRET_ENV = "ACTOPS_WEBHOOK_SECRET"


def secret_from_env(*, generate_local: bool = False) -> str | None:
    """``ACTOPS_WEBHOOK_SECRET`` (at least 32 characters), or None. For the local stack of
    ``actops up`` (``ACTOPS_MANAGED=1``) one is generated into the git-ignored ``.env`` when
    ``generate_local`` (only ``apply`` does that: it is the one that hands it to NocoDB)."""
    secret = config.get(SECRET_ENV)
    if not secret and generate_local and config.get("ACTOPS_MANAGED") == "1":
        secret = _secrets.token_urlsafe(32)
        config.write_env_file({SECRET_ENV: secret})
    if secret and len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"{SECRET_ENV} is too short ({len(secret)} characters, need {MIN_SECRET_CHARS}): generate "
                          "one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return secret or None


def webhook_base_url() -> str:
    """Where NocoDB reaches `actops serve`: ``ACTOPS_WEBHOOK_URL``, else ``ACTOPS_PUBLIC_URL``
    (see :func:`actops.kernel.links.public_url`)."""
    from actops.kernel.links import public_url

    return (config.get("ACTOPS_WEBHOOK_URL") or public_url()).rstrip("/")


def hook_url(base_url: str, rule: Rule) -> str:
    return f"{base_url.rstrip('/')}/hooks/{rule.name}"


def desired(rule: Rule, event: str, base_url: str, secret: str) -> dict[str, Any]:
    """The hook NocoDB should hold for ``rule`` and ``event`` (the body of a create or update)."""
    return {
        "title": rule.hook_title(event),
        "description": f"由 actops automations apply 维护（{Path(rule.source).name}，规则 {rule.name}）：请勿手工修改",
        "event": "after",
        "operation": [event],
        "version": "v3",
        "active": True,
        "notification": {"type": "URL", "payload": {
            "method": "POST", "path": hook_url(base_url, rule),
            "headers": [{"name": HEADER, "value": secret, "enabled": True}], "body": BODY}},
    }


@dataclass(frozen=True)
class HookChange:
    action: str  # create, update, delete, keep
    table: str  # the table's title in NocoDB
    title: str  # the hook's title
    url: str = ""
    why: str = ""

    def __str__(self) -> str:
        text = f"{self.action:<6} {self.table} · {self.title}"
        text += f" → {self.url}" if self.url and self.action != "delete" else ""
        return text + (f" ({self.why})" if self.why else "")


@dataclass
class HookReport:
    changes: list[HookChange] = field(default_factory=list)
    foreign: int = 0  # hooks on our tables that we did not create: left alone
    skipped: dict[str, str] = field(default_factory=dict)  # rule → why its hooks were not applied

    def count(self, action: str) -> int:
        return sum(c.action == action for c in self.changes)

    def summary(self, dry_run: bool = False) -> str:
        verb = "would be " if dry_run else ""
        return (f"{self.count('create')} {verb}created, {self.count('update')} {verb}updated, "
                f"{self.count('delete')} {verb}deleted, {self.count('keep')} unchanged; "
                f"{self.foreign} hooks not made by actops left alone"
                + (f"; {len(self.skipped)} rules not applied" if self.skipped else ""))


def _notification(hook: Mapping[str, Any]) -> dict[str, Any]:
    raw = hook.get("notification")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _operations(hook: Mapping[str, Any]) -> list[str]:
    ops = hook.get("operation")
    if isinstance(ops, str):
        try:
            ops = json.loads(ops)
        except ValueError:
            ops = [ops]
    return sorted(ops) if isinstance(ops, list) else []


def _headers(payload: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    return sorted((str(h.get("name")), str(h.get("value")), bool(h.get("enabled")))
                  for h in payload.get("headers") or [] if isinstance(h, Mapping))


def difference(hook: Mapping[str, Any], want: Mapping[str, Any]) -> str:
    """Why ``hook`` (as NocoDB lists it) is not ``want``; "" when it is (never names the secret)."""
    have, need = _notification(hook).get("payload") or {}, want["notification"]["payload"]
    if have.get("path") != need["path"]:
        return f"URL was {have.get('path')}"
    if _headers(have) != _headers(need):
        return "secret header changed"
    if _notification(hook).get("type") != "URL" or have.get("method") != "POST" or have.get("body") != BODY:
        return "notification changed by hand"
    if _operations(hook) != want["operation"] or hook.get("event") != "after":
        return f"event was {hook.get('event')} {','.join(_operations(hook))}"
    if hook.get("version") != "v3" or not hook.get("active"):
        return "inactive or not a v3 hook"
    if (hook.get("description") or "") != want["description"]:
        return "description changed"
    return ""


def sync_hooks(store: Any, rules: Iterable[Rule], base_url: str, secret: str, *, dry_run: bool = False,
               jobs: Iterable[str] | None = None) -> HookReport:
    """Make the ``actops:`` hooks on the store's tables match ``rules``. A rule whose job is
    not in the registry is reported in ``skipped``; its hooks are neither made nor removed."""
    rules = list(rules)
    report = HookReport(skipped=missing_jobs(rules, jobs))
    want: dict[tuple[str, str], tuple[Rule, dict[str, Any]]] = {}
    held: set[tuple[str, str]] = set()  # hooks of skipped rules: left as they are
    for rule in rules:
        for event in rule.events:
            key = (rule.table, rule.hook_title(event))
            if rule.name in report.skipped:
                held.add(key)
            else:
                want[key] = (rule, desired(rule, event, base_url, secret))
    api = store.api
    for name in _tables(store, {t for t, _ in want}):
        bound = store.table(name).table
        hooks = api.request("GET", f"/api/v2/meta/tables/{bound.id}/hooks")["list"]
        ours: dict[str, list[dict[str, Any]]] = {}
        for h in hooks:
            if str(h.get("title") or "").startswith(TITLE_PREFIX):
                ours.setdefault(h["title"], []).append(h)
            else:
                report.foreign += 1
        table_title = bound.title or name
        for title, found in sorted(ours.items()):
            entry = want.get((name, title))
            if (name, title) in held:
                continue
            if entry is None:
                for h in found:
                    _delete(api, h, dry_run)
                    report.changes.append(HookChange("delete", table_title, title, why="no rule declares it"))
                continue
            rule, body = entry
            first, *extra = sorted(found, key=lambda h: str(h.get("created_at") or ""))
            why = difference(first, body)
            if why:
                if not dry_run:
                    api.request("PATCH", f"/api/v2/meta/hooks/{first['id']}", json=body)
                report.changes.append(HookChange("update", table_title, title, hook_url(base_url, rule), why))
            else:
                report.changes.append(HookChange("keep", table_title, title, hook_url(base_url, rule)))
            for h in extra:
                _delete(api, h, dry_run)
                report.changes.append(HookChange("delete", table_title, title, why="a second hook with this title"))
        for (tname, title), (rule, body) in sorted(want.items()):
            if tname == name and title not in ours:
                if not dry_run:
                    api.request("POST", f"/api/v2/meta/tables/{bound.id}/hooks", json=body, retry=False)
                report.changes.append(HookChange("create", table_title, title, hook_url(base_url, rule)))
    return report


def _delete(api: Any, hook: Mapping[str, Any], dry_run: bool) -> None:
    if not dry_run:
        api.request("DELETE", f"/api/v2/meta/hooks/{hook['id']}")


def _tables(store: Any, needed: set[str]) -> list[str]:
    """Every schema table that exists in the store's bases (a test base may hold only some);
    a table a rule names must exist."""
    names = []
    for spec in store.specs:
        for t in spec.tables:
            try:
                store.table(t.name)
            except SchemaError:
                if t.name in needed:
                    raise
                continue
            names.append(t.name)
    return names


def apply_from_env(prefix: str | None, directory: Path | None = None, *, dry_run: bool = False,
                   echo: Callable[[str], None] = print) -> HookReport:
    """`actops automations apply`: rules from ``directory`` (default automations/), NocoDB,
    the base prefix, the URL and the secret from the environment; says what it did."""
    from actops.automations.rules import load_rules
    from actops.service import store_from_env

    rules = load_rules(directory)
    secret = secret_from_env(generate_local=not dry_run)
    if secret is None:
        raise ConfigError(f"{SECRET_ENV} is not set: put a random value of at least {MIN_SECRET_CHARS} characters "
                          "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) in the environment or "
                          "`.env` of both `actops automations apply` and `actops serve` (never in the repo)")
    base_url = webhook_base_url()
    store = store_from_env(prefix)
    echo(f"{len(rules)} rules; NocoDB {store.api.url} posts to {base_url}/hooks/<rule>"
         + (" (dry run: nothing changes)" if dry_run else ""))
    report = sync_hooks(store, rules, base_url, secret, dry_run=dry_run)
    for change in report.changes:
        echo(("would " if dry_run and change.action != "keep" else "") + str(change))
    for why in report.skipped.values():
        echo(f"! not applied: {why}; then run `actops automations apply` again")
    echo(report.summary(dry_run))
    return report
