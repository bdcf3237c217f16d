"""`automations apply` on the in-memory NocoDB: idempotent, ours only, secret never shown (SEC-2)."""

from __future__ import annotations

import json

import pytest

from actops.automations.hooks import HEADER, secret_from_env, sync_hooks, webhook_base_url
from actops.automations.rules import Rule
from actops.errors import ConfigError
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

pytestmark = pytest.mark.req("SEC-2")
SECRET = "unit-webhook-secret-0123456789abcdef"
URL = "http://actops.test"
JOBS = ["intake", "approvals"]
RULES = [Rule("intake-reports", "reports", ("insert",), "intake", source="a.yaml"),
         Rule("approvals-requests", "approval_requests", ("insert", "update"), "approvals", source="b.yaml")]


@pytest.fixture
def store():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", only={"reports", "approval_requests", "employees", "departments",
                                                 "activities"}, log=lambda s: None)
    return Store(api, "t-")


def hooks(store, table):
    tid = store.table(table).table.id
    return store.api.request("GET", f"/api/v2/meta/tables/{tid}/hooks")["list"]


def titles(store):
    return sorted((t, h["title"]) for t in ("reports", "approval_requests") for h in hooks(store, t))


def test_apply_twice_gives_the_same_hooks_and_the_second_changes_nothing(store):
    first = sync_hooks(store, RULES, URL, SECRET, jobs=JOBS)
    assert [c.action for c in first.changes] == ["create"] * 3
    made = titles(store)
    assert made == [("approval_requests", "actops:approvals-requests:insert"),
                    ("approval_requests", "actops:approvals-requests:update"),
                    ("reports", "actops:intake-reports:insert")]
    [h] = hooks(store, "reports")
    note = json.loads(h["notification"])
    assert h["version"] == "v3" and h["operation"] == ["insert"] and h["event"] == "after"
    assert note == {"type": "URL", "payload": {"method": "POST", "path": f"{URL}/hooks/intake-reports",
                                               "headers": [{"name": HEADER, "value": SECRET, "enabled": True}],
                                               "body": "{{ json event }}"}}
    calls = len(store.api.server.log)
    again = sync_hooks(store, RULES, URL, SECRET, jobs=JOBS)
    assert [c.action for c in again.changes] == ["keep"] * 3 and titles(store) == made
    assert {m for m, _ in store.api.server.log[calls:]} == {"GET"}  # nothing written
    assert again.summary() == "0 created, 0 updated, 0 deleted, 3 unchanged; 0 hooks not made by actops left alone"


def test_a_removed_rule_loses_its_hooks_and_a_foreign_hook_is_kept(store):
    sync_hooks(store, RULES, URL, SECRET, jobs=JOBS)
    tid = store.table("approval_requests").table.id
    store.api.request("POST", f"/api/v2/meta/tables/{tid}/hooks", json={
        "title": "财务：新申请提醒", "event": "after", "operation": ["insert"], "version": "v3",
        "notification": {"type": "URL", "payload": {"method": "POST", "path": "http://elsewhere.test/x"}}})
    report = sync_hooks(store, RULES[:1], URL, SECRET, jobs=JOBS)
    assert sorted((c.action, c.title) for c in report.changes) == [
        ("delete", "actops:approvals-requests:insert"), ("delete", "actops:approvals-requests:update"),
        ("keep", "actops:intake-reports:insert")]
    assert report.foreign == 1
    assert titles(store) == [("approval_requests", "财务：新申请提醒"), ("reports", "actops:intake-reports:insert")]


def test_a_new_url_or_secret_updates_the_hook_in_place_and_no_output_shows_the_secret(store):
    sync_hooks(store, RULES, URL, SECRET, jobs=JOBS)
    [before] = hooks(store, "reports")
    moved = sync_hooks(store, RULES, "https://ops.example.com/actops", SECRET, jobs=JOBS)
    assert {(c.action, c.why) for c in moved.changes} == {("update", f"URL was {URL}/hooks/intake-reports"),
                                                          ("update", f"URL was {URL}/hooks/approvals-requests")}
    rotated = sync_hooks(store, RULES, "https://ops.example.com/actops", "another-secret-" * 3, jobs=JOBS)
    assert {(c.action, c.why) for c in rotated.changes} == {("update", "secret header changed")}
    [after] = hooks(store, "reports")
    assert after["id"] == before["id"]
    assert json.loads(after["notification"])["payload"]["headers"][0]["value"] == "another-secret-" * 3
    shown = "\n".join(str(c) for r in (moved, rotated) for c in r.changes) + moved.summary()
    assert SECRET not in shown and "another-secret-" not in shown


def test_a_hook_edited_by_hand_is_put_back_and_a_duplicate_is_removed(store):
    sync_hooks(store, RULES[:1], URL, SECRET, jobs=JOBS)
    [h] = hooks(store, "reports")
    body = {**{k: h[k] for k in ("title", "event", "version")}, "operation": ["update"], "active": False,
            "notification": json.loads(h["notification"])}
    store.api.request("PATCH", f"/api/v2/meta/hooks/{h['id']}", json=body)
    tid = store.table("reports").table.id
    store.api.request("POST", f"/api/v2/meta/tables/{tid}/hooks", json=body)  # a second one, same title
    report = sync_hooks(store, RULES[:1], URL, SECRET, jobs=JOBS)
    assert sorted((c.action, c.why) for c in report.changes) == [
        ("delete", "a second hook with this title"), ("update", "event was after update")]
    [fixed] = hooks(store, "reports")
    assert fixed["id"] == h["id"] and fixed["operation"] == ["insert"] and fixed["active"] is True


def test_a_dry_run_changes_nothing(store):
    report = sync_hooks(store, RULES, URL, SECRET, dry_run=True, jobs=JOBS)
    assert [c.action for c in report.changes] == ["create"] * 3 and titles(store) == []
    assert "3 would be created" in report.summary(dry_run=True)


def test_a_rule_whose_job_is_not_registered_is_reported_and_its_hooks_are_left_as_they_are(store):
    sync_hooks(store, RULES, URL, SECRET, jobs=JOBS)
    report = sync_hooks(store, RULES, "http://new.test", SECRET, jobs=["intake"])
    assert list(report.skipped) == ["approvals-requests"] and "no job 'approvals'" in report.skipped["approvals-requests"]
    assert [(c.action, c.title) for c in report.changes] == [("update", "actops:intake-reports:insert")]
    kept = [json.loads(h["notification"])["payload"]["path"] for h in hooks(store, "approval_requests")]
    assert kept == [f"{URL}/hooks/approvals-requests"] * 2  # neither updated nor deleted
    assert report.summary().endswith("1 rules not applied")


def test_the_secret_and_url_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTOPS_ENV_FILE", str(tmp_path / ".env"))
    for k in ("ACTOPS_WEBHOOK_SECRET", "ACTOPS_WEBHOOK_URL", "ACTOPS_PUBLIC_URL", "ACTOPS_SERVE_PORT", "ACTOPS_MANAGED"):
        monkeypatch.delenv(k, raising=False)
    assert secret_from_env(generate_local=True) is None  # not the local stack: nothing generated
    monkeypatch.setenv("ACTOPS_MANAGED", "1")
    made = secret_from_env(generate_local=True)
    assert made and len(made) >= 32 and f"ACTOPS_WEBHOOK_SECRET={made}" in (tmp_path / ".env").read_text()
    monkeypatch.setenv("ACTOPS_WEBHOOK_SECRET", "short")
    with pytest.raises(ConfigError, match="ACTOPS_WEBHOOK_SECRET is too short"):
        secret_from_env()
    assert webhook_base_url() == "http://127.0.0.1:8090"
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://ops.example.com/actops/")
    assert webhook_base_url() == "https://ops.example.com/actops"
    monkeypatch.setenv("ACTOPS_WEBHOOK_URL", "http://10.0.0.5:8090")
    assert webhook_base_url() == "http://10.0.0.5:8090"


def test_apply_without_a_secret_stops_before_touching_nocodb_and_says_how_to_set_one(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from actops.cli import app

    monkeypatch.setenv("ACTOPS_ENV_FILE", str(tmp_path / ".env"))
    for k in ("ACTOPS_WEBHOOK_SECRET", "ACTOPS_MANAGED"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NOCODB_URL", "http://127.0.0.1:9")  # nothing listens: never called
    monkeypatch.setenv("NOCODB_TOKEN", "unused")
    out = CliRunner().invoke(app, ["automations", "apply"])
    assert out.exit_code == 1
    assert "ACTOPS_WEBHOOK_SECRET is not set" in out.output and "never in the repo" in out.output
