"""Self-evaluation through the personal link (EVA-2, EVA-7, STF-5), on the in-memory NocoDB:
HR opens a monthly cycle, each employee is sent their own link once, the page shows and saves
only that person's row, and anything without a valid link is refused."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest

from actops.jobs.evaluations import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_SELF_EVAL, LinkSigner
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "self-eval-unit-test-secret-0123456789"
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture()
def world(monkeypatch):
    monkeypatch.setenv("ACTOPS_LINK_SECRET", SECRET)
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://actops.example.cn")
    api = FakeApi(now=lambda: NOW)
    specs = load_schema()
    apply(api, specs, prefix="t-", log=lambda s: None)
    store = Store(api, "t-", specs)
    store.table("departments").create([{"code": "D01", "name": "市场部"}])
    store.table("employees").create([
        {"code": "E1", "name": "王经理", "department": "D01", "roles": ["部门负责人"], "email": "e1@x.cn"},
        {"code": "E2", "name": "张三", "department": "D01", "manager": "E1", "email": "e2@x.cn"},
        {"code": "E3", "name": "李四", "department": "D01", "manager": "E1", "email": "e3@x.cn"}])
    store.table("departments").update([{"Id": 1, "head": "E1"}])
    store.table("eval_cycles").create([{"code": "2026-10-自评", "kind": "月度自评", "period": "2026-10",
                                        "due_date": "2026-11-06", "status": "已开启"}])
    return api, store


def _run(store):
    return runner.run(JOB, store, NOW.astimezone(TZ))


def _client(store):
    from actops.web.app import create_app

    app = create_app(lambda: store, LinkSigner(SECRET.encode()), clock=lambda: NOW.astimezone(TZ),
                     link_clock=lambda: NOW.astimezone(TZ))
    return TestClient(app)


def _link(body: str) -> str:
    return "/self/" + body.split("](https://actops.example.cn/self/", 1)[1].split(")", 1)[0]


@pytest.mark.req("EVA-2", "STF-5")
def test_each_employee_gets_their_own_link_once(world):
    api, store = world
    first = _run(store)
    invites = [m for m in first.plan.messages if m.kind == "自评邀请"]
    assert sorted(m.recipient for m in invites) == ["E1", "E2", "E3"]
    claims = LinkSigner(SECRET.encode()).verify(_link(invites[1].body).rsplit("/", 1)[1], PURPOSE_SELF_EVAL,
                                                NOW.astimezone(TZ))
    assert (claims.code, claims.ref) == (invites[1].recipient, "2026-10-自评")
    again = _run(store)
    assert again.enqueued == 0  # once per person and cycle


@pytest.mark.req("EVA-2", "EVA-7", "STF-5")
def test_the_page_shows_and_saves_only_the_persons_own_row(world):
    api, store = world
    first = _run(store)
    links = {m.recipient: _link(m.body) for m in first.plan.messages if m.kind == "自评邀请"}
    client = _client(store)
    page = client.get(links["E2"])
    assert page.status_code == 200 and "张三（E2）" in page.text and "李四" not in page.text
    assert client.post(links["E2"], data={"self_results": "完成展会", "self_score": "88"}).status_code == 400
    assert client.post(links["E2"], data={"improvement_plan": "x", "self_score": "120"}).status_code == 400
    done = client.post(links["E2"], data={"self_results": "完成展会<b>", "self_score": "88",
                                          "improvement_plan": "12 月前学完活动预算课程"})
    assert done.status_code == 200 and 'id="saved"' in done.text and "完成展会&lt;b&gt;" in done.text
    rows = {r["employee"]: r for r in store.table("evaluations").rows()}
    assert rows["E2"]["self_score"] == 88 and rows["E2"]["improvement_plan"] == "12 月前学完活动预算课程"
    assert rows["E2"]["submitted_at"] and rows["E2"]["token_hash"]
    assert rows["E3"]["submitted_at"] is None and rows["E3"]["self_score"] is None  # nobody else's row moved

    signer = LinkSigner(SECRET.encode())
    forged = links["E2"][:-4] + ("AAAA" if not links["E2"].endswith("AAAA") else "BBBB")
    assert client.get(forged).status_code == 403
    wrong_purpose = f"/self/{signer.sign('E2', 'approve', NOW, ref='2026-10-自评')}"
    assert client.get(wrong_purpose).status_code == 403
    other_cycle = f"/self/{signer.sign('E2', PURPOSE_SELF_EVAL, NOW, ref='2026-09-自评')}"
    assert client.get(other_cycle).status_code == 404
    expired = f"/self/{signer.sign('E2', PURPOSE_SELF_EVAL, NOW - timedelta(days=60), ref='2026-10-自评')}"
    assert client.get(expired).status_code == 410

    store.table("eval_cycles").update([{"Id": 1, "status": "评分中"}])  # HR closes self-evaluation
    closed = client.post(links["E3"], data={"improvement_plan": "迟交"})
    assert closed.status_code == 409 and "不再接受自评" in closed.text
    assert {r["employee"]: r for r in store.table("evaluations").rows()}["E3"]["improvement_plan"] is None


@pytest.mark.req("EVA-1", "EVA-2", "EVA-7", "ESC-2", "ESC-4")
def test_a_late_self_evaluation_is_chased_on_the_ladder_from_the_day_the_invitation_states(world):
    from actops.jobs import escalations

    api, store = world
    store.table("eval_cycles").update([{"Id": 1, "due_date": None}])  # due by self_eval_day (5) of November
    invites = {m.recipient: m for m in _run(store).plan.messages if m.kind == "自评邀请" and m.channel == "邮件"}
    assert invites["E2"].subject == "【请自评】2026-10-自评（截止 2026-11-05）"
    links = {code: _link(m.body) for code, m in invites.items()}
    client = _client(store)
    assert "2026-11-05" in client.get(links["E2"]).text  # the page states the same day
    assert client.post(links["E3"], data={"self_score": "91", "improvement_plan": "按时提交周报"}).status_code == 200

    def chase(day):
        r = runner.run(escalations.JOB, store, datetime(2026, 11, day, 10, tzinfo=TZ))
        return {m.recipient: m for m in r.plan.messages if m.channel == "邮件"}

    assert chase(5) == {}  # due at the end of Thu 11-05, as the invitation says
    first = chase(6)  # Fri: reminders to the two who have not submitted (E3 has)
    assert sorted(first) == ["E1", "E2"]
    own = _link(first["E2"].body)
    assert client.get(own).status_code == 200 and "张三（E2）" in client.get(own).text  # their own form
    assert "2026-10 月度自评 未提交" in first["E2"].html
    second = chase(9)  # Mon: the supervisor hears of E2's, without E2's form
    assert sorted(second) == ["E1"] and "2026-10-自评-E2" in second["E1"].html
    assert "/self/" not in second["E1"].html + second["E1"].body
    rows = {r["employee"]: r for r in store.table("evaluations").rows()}
    assert rows["E2"]["escalation_level"] == 2 and rows["E2"]["notified"] == "r1:E2 r2:E1"
    assert rows["E3"].get("notified") is None


@pytest.mark.req("EVA-1", "REL-2")
def test_a_monthly_cycle_without_a_findable_due_day_is_noted_on_the_cycle(world):
    api, store = world
    store.table("eval_cycles").update([{"Id": 1, "due_date": None, "period": "2026-Q4"}])
    r = _run(store)
    said = [i for i in r.plan.issues if i.table == "考评周期" and i.field == "期间"]
    assert [i.row_id for i in said] == [1] and "未提交的自评无法催办" in said[0].reason
    invite = next(m for m in r.plan.messages if m.kind == "自评邀请")
    assert "截止 —" in invite.subject  # no day is invented
