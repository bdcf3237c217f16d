"""Evaluations on a real NocoDB, SMTP server and `actops serve` (EVA-1..7, KPI-2).

HR opens the September self-evaluation (月度自评) and the third quarter (季度考评) with one row
each; a run makes a 考评表 row per active employee in each and mails everyone their own
/self/ link (the self part of a quarter is the mean of its months' self scores, so the links
belong to the monthly cycle). Employees fill their self-evaluation through the served page,
supervisors type their scores into the rows, a run scores, grades and ranks; HR publishes and
each person gets one mail with their own result only. Reruns change and send nothing; forged
or altered links open nothing.

Expected numbers, by hand. Only K-COLLAB (录入, 部门, target 0.9, weight 0.1) is active:
D01 0.855 → 95, D02 0.9 → 100, D03 0.72 → 80. Weights KPI 0.5, 上级 0.3, 自评 0.2, 评委 0.
Self part of 2026-Q3 = mean of the monthly self scores 2026-07…09 present:

===== ====== ===== ====== ====== ======================================== ===== =====
人     部门    KPI   上级    自评    综合                                      等级   排名
===== ====== ===== ====== ====== ======================================== ===== =====
E01   D01     95    —      —     95 (上级、自评 missing: re-weighted 0.5/0.5)  S     1
E02   D02    100    88     85    50 + 26.4 + 17   = 93.4                   S     2
E03   D02    100    90     84    50 + 27 + 16.8   = 93.8 (80, 84, 88 → 84)  S     1
E04   D02    100    65     70    50 + 19.5 + 14   = 83.5                   A     3
E05   D03     80    80     75    40 + 24 + 15     = 79                     B     2
E06   D03     80    95     90    40 + 28.5 + 18   = 86.5                   A     1
===== ====== ===== ====== ====== ======================================== ===== =====
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime

import httpx
import pytest

from actops.jobs.evaluations import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_SELF_EVAL, LinkSigner
from actops.messaging.channels import EmailChannel
from tests.integration.test_automations import LINK_SECRET

TABLES = {"eval_cycles", "evaluations", "grade_bands", "kpi_definitions", "kpi_results", "activities",
          "activity_types", "feedback", "plans", "plan_tasks", "action_items", "audit_findings", "audit_cycles",
          "audit_samples", "employees", "departments", "settings", "calendar", "run_log", "outbox", "customers"}
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)  # Monday 10:00 in Beijing: no quiet hours
MONTH, QUARTER = "2026-09-自评", "2026-Q3-考评"
NAMES = {"E01": "王总", "E02": "李经理", "E03": "赵敏", "E04": "钱多", "E05": "孙工", "E06": "周工"}
SELF = {  # what each person types on their page for September (E01 leaves it)
    "E02": ("85", "完成秋季推广三场", "预算编制更熟练", "按时交付", "11 月前完成活动复盘模板"),
    "E03": ("88", "签约两家新客户", "谈判能力提升", "主动加班保障展会", "每周复盘客户跟进，12 月前完成"),
    "E04": ("70", "协助两场活动", "需要加强文案", "偶有迟到", "11 月起每天提前十分钟到岗"),
    "E05": ("75", "完成系统升级", "架构设计", "认真负责", "12 月前培养一名骨干"),
    "E06": ("90", "零事故交付", "自动化脚本", "积极", "学习新监控工具，11 月底前上线"),
}
SUPERVISOR = {"E02": 88, "E03": 90, "E04": 65, "E05": 80, "E06": 95}
COMMENTS = {"E03": "客户沟通主动，继续保持", "E04": "注意考勤，加强文案训练"}
EXPECTED = {  # 工号 → (KPI, 自评, 综合, 等级, 奖金系数, 部门排名)
    "E01": (95, None, 95, "S", 1.5, 1), "E02": (100, 85, 93.4, "S", 1.5, 2), "E03": (100, 84, 93.8, "S", 1.5, 1),
    "E04": (100, 70, 83.5, "A", 1.2, 3), "E05": (80, 75, 79, "B", 1.0, 2), "E06": (80, 90, 86.5, "A", 1.2, 1),
}
SELF_LINK = re.compile(r'href="(http://127\.0\.0\.1:\d+/self/[^"]+)"')


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def company(s) -> None:
    """Three departments, six active employees with their supervisors, one who left; bands and
    KPIs as HR set them; two earlier months of 赵敏's self scores; a fraud finding on 周工."""
    tag = s.tag
    s.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                   {"code": "D03", "name": "技术部"}])
    s.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理"], "email": f"e01-{tag}@corp.test"},
        {"code": "E02", "name": "李经理", "department": "D02", "manager": "E01", "roles": ["部门负责人"],
         "email": f"e02-{tag}@corp.test"},
        {"code": "E03", "name": "赵敏", "department": "D02", "manager": "E02", "email": f"e03-{tag}@corp.test"},
        {"code": "E04", "name": "钱多", "department": "D02", "manager": "E02", "email": f"e04-{tag}@corp.test",
         "late_streak": 3},
        {"code": "E05", "name": "孙工", "department": "D03", "manager": "E01", "roles": ["部门负责人"],
         "email": f"e05-{tag}@corp.test"},
        {"code": "E06", "name": "周工", "department": "D03", "manager": "E05", "email": f"e06-{tag}@corp.test"},
        {"code": "E09", "name": "吴离职", "department": "D03", "manager": "E05", "active": False,
         "email": f"e09-{tag}@corp.test"},
    ])
    ids = s.key_ids("departments")
    s.table("departments").update([{"Id": ids["D01"], "head": "E01"}, {"Id": ids["D02"], "head": "E02"},
                                   {"Id": ids["D03"], "head": "E05"}])
    kd = s.table("kpi_definitions")
    kd.update([{"Id": r["Id"], "active": r["code"] == "K-COLLAB"} for r in kd.rows()])
    s.table("kpi_results").create([
        {"code": f"R-{d}", "kpi": "K-COLLAB", "period": "2026-Q3", "subject": d, "actual": a}
        for d, a in (("D01", 0.855), ("D02", 0.9), ("D03", 0.72))])
    s.table("eval_cycles").create([
        {"code": f"2026-{m}-自评", "kind": "月度自评", "period": f"2026-{m}", "status": "已发布"} for m in ("07", "08")])
    s.table("evaluations").create([
        {"code": f"2026-{m}-自评-E03", "cycle": f"2026-{m}-自评", "employee": "E03", "employee_name": "赵敏",
         "department": "D02", "supervisor": "E02", "self_score": v, "improvement_plan": "每周复盘",
         "published_at": datetime(2026, int(m) + 1, 8, 10, tzinfo=TZ)} for m, v in (("07", 80), ("08", 84))])
    s.table("audit_cycles").create([{"code": "2026-Q2", "period_start": "2026-04-01", "period_end": "2026-06-30",
                                     "status": "已完成", "seed": 7}])
    s.table("audit_findings").create([{"code": "2026-Q2-F-E-EXP-9", "cycle": "2026-Q2", "severity": "严重",
                                       "description": "差旅发票金额涂改", "owner": "E06", "fraud": True,
                                       "status": "整改中"}])


@pytest.fixture(scope="module")
def store(make_store):
    s = make_store(TABLES, suffix="eva-")
    s.tag = uuid.uuid4().hex[:6]
    company(s)
    return s


@pytest.fixture(scope="module")
def served(store, nocodb, tmp_path_factory, monkeypatch_module):
    """`actops serve` on a free port; this process signs links with the same secret and URL."""
    from actops_dev.catcher import free_port
    from tests.integration.test_automations import env_for
    from tests.serving import start_serve

    home = tmp_path_factory.mktemp("eva-serve")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    for k, v in {"ACTOPS_ENV_FILE": str(home / ".env"), "ACTOPS_LINK_SECRET": LINK_SECRET,
                 "ACTOPS_PUBLIC_URL": url}.items():
        monkeypatch_module.setenv(k, v)
    for k in ("ACTOPS_LINK_DAYS", "ACTOPS_LINK_SECRET_PREVIOUS", "NOCODB_PUBLIC_URL"):
        monkeypatch_module.delenv(k, raising=False)
    env = env_for(nocodb, store.prefix, ACTOPS_PUBLIC_URL=url, ACTOPS_LINK_SECRET=LINK_SECRET,
                  ACTOPS_ENV_FILE=str(home / ".env"), ACTOPS_WEBHOOK_SECRET="")
    s = start_serve(env, home, port)
    try:
        yield s
    finally:
        s.stop()
        assert "/self/v1." not in s.output() and LINK_SECRET not in s.output()  # no token, no secret in the log


def channels(smtp) -> dict:
    return {"邮件": EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")}


def run(store, smtp, now=NOW):
    result = runner.run(JOB, store, now, channels=channels(smtp))
    assert result.status in ("成功", "部分成功"), (result.status, result.plan.warnings)
    return result


def mails_of(smtp, store, subject_part: str) -> dict[str, list[dict]]:
    """工号 → the mails whose subject has ``subject_part``, to this module's company."""
    out: dict[str, list[dict]] = {}
    for m in smtp.messages:
        for to in m["to"]:
            found = re.fullmatch(rf"(e\d\d)-{store.tag}@corp\.test", to)
            if found and subject_part in m["subject"]:
                out.setdefault(found.group(1).upper(), []).append(m)
    return out


def rows(store, cycle: str | None = None) -> dict[str, dict]:
    return {r["employee"]: r for r in store.table("evaluations").rows() if cycle is None or r["cycle"] == cycle}


@pytest.fixture(scope="module")
def opened(store, served, smtp):
    """HR adds the two cycle rows; one run. Returns each person's mailed /self/ link."""
    store.table("eval_cycles").create([
        {"code": MONTH, "kind": "月度自评", "period": "2026-09", "due_date": "2026-10-16", "status": "已开启"},
        {"code": QUARTER, "kind": "季度考评", "period": "2026-Q3", "due_date": "2026-10-30", "status": "已开启",
         "w_kpi": 0.5, "w_supervisor": 0.3, "w_self": 0.2, "w_judges": 0}])
    result = run(store, smtp)
    invites = mails_of(smtp, store, "【请自评】")
    links = {}
    for code, ms in invites.items():
        assert len(ms) == 1, (code, [m["subject"] for m in ms])
        found = SELF_LINK.findall(ms[0]["html"])
        assert len(found) == 1, ms[0]["html"]
        links[code] = found[0].replace("&amp;", "&")
    return {"result": result, "invites": invites, "links": links}


def page_names(html: str) -> set[str]:
    return {n for n in (*NAMES.values(), "吴离职") if n in html}


@pytest.mark.req("EVA-1", "EVA-2", "EVA-7")
def test_one_cycle_row_gives_a_row_per_active_employee_and_each_their_own_link(store, opened, served, smtp):
    got = {c: rows(store, c) for c in (MONTH, QUARTER)}
    for cycle, by_emp in got.items():  # E09 has left: no row
        assert sorted((e, r.get("supervisor"), r["department"], r["employee_name"]) for e, r in by_emp.items()) == [
            ("E01", None, "D01", "王总"), ("E02", "E01", "D02", "李经理"), ("E03", "E02", "D02", "赵敏"),
            ("E04", "E02", "D02", "钱多"), ("E05", "E01", "D03", "孙工"), ("E06", "E05", "D03", "周工")], cycle
        assert all(r["code"] == f"{cycle}-{e}" for e, r in by_emp.items())
    invites = opened["invites"]
    assert sorted(invites) == sorted(NAMES)  # one invitation each, the monthly cycle's
    assert all(ms[0]["subject"] == f"【请自评】{MONTH}（截止 2026-10-16）" for ms in invites.values())
    signer = LinkSigner(LINK_SECRET.encode())
    for code, link in opened["links"].items():
        assert link.startswith(served.url + "/self/")
        claims = signer.verify(link.rsplit("/", 1)[1], PURPOSE_SELF_EVAL, datetime.now(TZ))
        assert (claims.code, claims.ref) == (code, MONTH)
        mail = invites[code][0]["html"]
        assert NAMES[code] in mail and not page_names(mail) - {NAMES[code]}  # nobody else in it
        page = httpx.get(link, timeout=30)  # the mailed link opens now, on the real page
        assert page.status_code == 200, page.text
        assert f"{NAMES[code]}（{code}）" in page.text and page_names(page.text) == {NAMES[code]}
    again = run(store, smtp)
    assert again.enqueued == 0 and len(mails_of(smtp, store, "【请自评】")) == len(NAMES)
    assert {c: rows(store, c) for c in (MONTH, QUARTER)} == got


def _tamper(token: str, **claims: str) -> str:
    """The token with its claims changed and the old signature kept (a hand-edited link)."""
    v, body, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(claims)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return f"{v}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{mac}"


@pytest.mark.req("EVA-7", "STF-5")
def test_a_forged_or_altered_link_opens_and_saves_nothing(store, opened, served):
    own = opened["links"]["E04"]
    token = own.rsplit("/", 1)[1]
    other_key = LinkSigner(b"someone-elses-secret-0123456789abcdef").sign("E04", PURPOSE_SELF_EVAL, datetime.now(TZ),
                                                                         ref=MONTH)
    todo = LinkSigner(LINK_SECRET.encode()).sign("E04", "todo", datetime.now(TZ))
    cases = {
        "signature changed": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "person changed to E03": _tamper(token, s="E03"),
        "cycle changed": _tamper(token, r=QUARTER),
        "another key": other_key,
        "another purpose": todo,
        "garbage": "v1.abc.def",
    }
    before = rows(store, MONTH)
    form = {"self_results": "冒名提交", "self_score": "100", "improvement_plan": "无"}
    for what, bad in cases.items():
        url = f"{served.url}/self/{bad}"
        for r in (httpx.get(url, timeout=30), httpx.post(url, data=form, timeout=30)):
            assert r.status_code == 403 and "链接无效" in r.text, (what, r.status_code, r.text[:300])
            assert not page_names(r.text) and "冒名提交" not in r.text, what
    assert rows(store, MONTH) == before  # nothing was written to anyone's row


def self_evaluate(link: str, score: str, results: str, ability: str, attitude: str, plan: str) -> httpx.Response:
    return httpx.post(link, data={"self_results": results, "self_ability": ability, "self_attitude": attitude,
                                  "self_score": score, "improvement_plan": plan}, timeout=30)


@pytest.mark.req("EVA-2", "EVA-3", "EVA-4", "EVA-5", "EVA-6", "EVA-7", "KPI-2")
def test_the_quarter_is_scored_published_to_each_alone_and_reruns_change_nothing(store, opened, served, smtp):
    links = opened["links"]
    # 1. Self-evaluations through the served page; without an improvement plan nothing is saved.
    score, results, ability, attitude, _ = SELF["E04"]
    refused = self_evaluate(links["E04"], score, results, ability, attitude, "   ")
    assert refused.status_code == 400 and "请填写改进计划" in refused.text
    assert results in refused.text and ability in refused.text  # the form again, with what was typed
    assert rows(store, MONTH)["E04"]["submitted_at"] is None
    for code, values in SELF.items():
        r = self_evaluate(links[code], *values)
        assert r.status_code == 200 and 'id="saved"' in r.text, r.text
        assert page_names(r.text) == {NAMES[code]}
    month = rows(store, MONTH)
    for code, (score, results, ability, attitude, plan) in SELF.items():
        row = month[code]
        assert (row["self_score"], row["self_results"], row["self_ability"], row["self_attitude"],
                row["improvement_plan"]) == (float(score), results, ability, attitude, plan)
        assert row["submitted_at"] and row["token_hash"]
    assert month["E01"]["submitted_at"] is None and month["E01"]["self_score"] is None

    # 2. Supervisors type their scores and comments into the quarter's rows (the API, as the grid does).
    quarter = rows(store, QUARTER)
    store.table("evaluations").update([
        {"Id": quarter[e]["Id"], "supervisor_score": s, **({"supervisor_comment": COMMENTS[e]} if e in COMMENTS else {})}
        for e, s in SUPERVISOR.items()])
    smtp.clear()
    scored = run(store, smtp)
    assert scored.enqueued == 0 and not smtp.messages  # nothing is told before HR publishes
    quarter = rows(store, QUARTER)
    for code, (kpi, self_score, composite, grade, bonus, rank) in EXPECTED.items():
        r = quarter[code]
        assert (r["kpi_score"], r["self_score"], r["composite"], r["grade"], r["bonus_coefficient"],
                r["dept_rank"]) == (kpi, self_score, composite, grade, bonus, rank), (code, r)
        assert r["published_at"] is None and f"{composite:g}" in r["score_note"]
    assert "2026-07 80、2026-08 84、2026-09 88 的平均 = 84" in quarter["E03"]["score_note"]
    assert "缺少上级评分、自评分" in quarter["E01"]["score_note"] and "重新分配权重" in quarter["E01"]["score_note"]
    assert "部门内排名第 2 名" in quarter["E02"]["score_note"]
    assert "连续逾期提交报告 3 次" in (quarter["E04"]["flags"] or "")  # EVA-6: shown to the evaluator
    assert "数据造假" in (quarter["E06"]["flags"] or "") and "差旅发票金额涂改" in quarter["E06"]["flags"]
    kpi_rows = {r["subject"]: r for r in store.table("kpi_results").rows()}
    assert {d: (r["attainment"], r["score"]) for d, r in kpi_rows.items()} == {
        "D01": (0.95, 95), "D02": (1, 100), "D03": (0.8, 80)}  # KPI-2: written back to the entered actuals

    # 3. HR publishes: each person one mail, their own result only.
    cycle_id = store.key_ids("eval_cycles")[QUARTER]
    store.table("eval_cycles").update([{"Id": cycle_id, "status": "已发布"}])
    published = run(store, smtp)
    results_mails = mails_of(smtp, store, "【考评结果】")
    assert sorted(results_mails) == sorted(EXPECTED) and published.enqueued == len(EXPECTED)
    for code, (_, _, composite, grade, _, rank) in EXPECTED.items():
        [mail] = results_mails[code]
        text = re.sub(r"<[^>]+>", " ", mail["html"])
        assert mail["subject"] == f"【考评结果】{QUARTER}"
        assert NAMES[code] in text and f"{composite:g}" in text and f"第 {rank} 名" in text
        assert re.search(rf"等级\s+{grade}\b", text), text
        others = [c for c in EXPECTED if c != code]
        assert not [NAMES[o] for o in others if NAMES[o] in text], text
        numbers = set(re.findall(r"(?<![\d.-])\d+(?:\.\d+)?(?![\d.-])", text))
        assert not [o for o in others if f"{EXPECTED[o][2]:g}" in numbers and EXPECTED[o][2] != composite], text
        assert not [c for o, c in COMMENTS.items() if o != code and c in text], text
        if code in COMMENTS:
            assert COMMENTS[code] in text
    after = rows(store, QUARTER)
    assert all(r["published_at"] for r in after.values())

    # 4. EVA-5: a rerun sends nothing and writes nothing; a full replan finds nothing to do.
    count = len(store.table("evaluations").rows(fields=["code"]))
    again = run(store, smtp)
    assert again.enqueued == 0 and len(mails_of(smtp, store, "【考评结果】")) == len(EXPECTED)
    assert len(store.table("evaluations").rows(fields=["code"])) == count and rows(store, QUARTER) == after
    replan = runner.run(JOB, store, NOW, dry_run=True).plan
    assert replan.inserts == {} and replan.row_updates == {}, (replan.inserts, replan.row_updates)
