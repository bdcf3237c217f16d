"""「我的待办」 on the in-memory NocoDB: each person sees exactly their own items (STF-3, STF-5)."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import pytest

with warnings.catch_warnings():  # starlette 1.10 would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from actops.kernel.links import PURPOSE_TODO, LinkSigner
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store
from actops.web.app import create_app
from tests.todo_company import CLOSED, MINE, NOW, OVERDUE, TABLES, TEAM, company

SIGNER = LinkSigner(b"unit-test-secret-" * 3)


@pytest.fixture(scope="module")
def api():
    api = FakeApi(now=lambda: NOW)
    apply(api, load_schema(), prefix="t-", only=TABLES, log=lambda s: None)
    company(Store(api, "t-"))
    return api


@pytest.fixture(scope="module")
def client(api):
    return TestClient(create_app(lambda: Store(api, "t-"), SIGNER, clock=lambda: NOW, link_clock=lambda: NOW))


def link(code, issued=NOW, purpose=PURPOSE_TODO):
    return f"/todo/{SIGNER.sign(code, purpose, issued)}"


def codes(html: str, section: str | None = None) -> list[str]:
    """Item codes on the page (``data-code``), or those of one ``<section id=…>``."""
    if section is not None:
        m = re.search(rf'<section id="{section}".*?</section>', html, flags=re.S)
        html = m.group(0) if m else ""
    return re.findall(r'<li class="item[^"]*"[^>]*data-code="([^"]+)"', html)


def own(html: str) -> list[str]:
    team = html.find('<section id="team-overdue"')
    return codes(html[: team if team >= 0 else len(html)])


@pytest.mark.req("STF-3", "STF-5")
@pytest.mark.parametrize("person", sorted(MINE))
def test_each_person_sees_exactly_their_own_items_and_their_teams_overdue(client, person):
    r = client.get(link(person))
    assert r.status_code == 200, r.text
    html = r.text
    assert sorted(own(html)) == sorted(MINE[person])  # nothing twice, nothing missing
    assert sorted(codes(html, "overdue")) == sorted(OVERDUE.get(person, set()))
    assert sorted(codes(html, "team-overdue")) == sorted(TEAM.get(person, set()))
    assert ('id="team-overdue"' in html) == (person in TEAM)
    assert not set(codes(html)) & CLOSED
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


@pytest.mark.req("STF-3", "STF-5", "APR-5")
def test_the_page_is_zh_cn_for_a_phone_with_due_times_rungs_and_row_links(client):
    html = client.get(link("E3")).text
    assert '<html lang="zh-CN">' in html and "<h1>我的待办</h1>" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # no external asset
    assert "张三（E3）" in html and "截至 2026-10-12 16:00" in html
    s1 = re.search(r'<li class="item overdue"[^>]*data-code="AP-1-S1".*?</li>', html, flags=re.S).group(0)
    assert 'data-rung="3"' in s1 and "已升级至总经理" in s1 and "截止 2026-10-09 15:00" in s1
    assert re.search(r'href="http://nocodb\.fake/dashboard/#/nc/p\w+/m\w+\?rowId=\d+"', s1)
    assert "代 Li Si（E4） 审批" in html  # the deputy's step says whose it is
    assert '<section id="kind-approval"' in html and "待我审批" in html
    posthoc = re.search(r'<li class="item overdue urgent"[^>]*data-code="AP-2".*?</li>', html, flags=re.S)
    assert posthoc and "紧急" in posthoc.group(0)


@pytest.mark.req("STF-5")
def test_a_person_whose_language_is_english_gets_the_english_page(client):
    html = client.get(link("E4")).text
    assert '<html lang="en">' in html and "<h1>My to-dos</h1>" in html
    assert "handed to 张三（E3） (deputy)" in html and "Overdue" in html


@pytest.mark.req("STF-3")
def test_a_managers_team_section_is_grouped_by_department(client):
    html = client.get(link("E1")).text
    team = re.search(r'<section id="team-overdue".*?</section>', html, flags=re.S).group(0)
    assert re.findall(r'<h3 class="dept">(\S+)', team) == ["市场部", "技术部"]  # most items first
    assert "负责人 张三" in team and "负责人 周六" in team


@pytest.mark.req("STF-5", "SEC-1")
def test_forged_expired_malformed_and_foreign_links_show_nobodys_data(client):
    everybody = {c for cs in (*MINE.values(), *TEAM.values()) for c in cs} | {"张三", "Li Si", "周六", "钱总"}
    good = link("E3")
    forged_sig = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_key = "/todo/" + LinkSigner(b"another-secret-entirely-" * 2).sign("E3", PURPOSE_TODO, NOW)
    cases = {
        forged_sig: (403, "链接无效"),
        other_key: (403, "链接无效"),
        link("E3", issued=NOW - timedelta(days=15)): (410, "链接已过期"),
        link("E3", purpose="self-eval"): (403, "链接无效"),
        "/todo/not-a-token": (403, "链接无效"),
        "/todo/v1.e30.c2ln": (403, "链接无效"),
        "/todo/": (404, "页面不存在"),
        link("E9"): (410, "已不在职"),  # genuine, but the person has left
        link("E404"): (404, "不在员工表中"),
    }
    for path, (status, text) in cases.items():
        r = client.get(path)
        assert r.status_code == status, (path, r.text)
        assert text in r.text and "<h1>我的待办</h1>" in r.text
        assert not [w for w in everybody if w in r.text], path
        assert codes(r.text) == []


def test_the_home_page_and_health(client):
    r = client.get("/")
    assert r.status_code == 200 and "请点击提醒邮件或企业微信消息中的「我的待办」链接" in r.text
    assert client.get("/healthz").text == "ok"


@pytest.mark.req("STF-3")
def test_one_paged_read_per_table_and_the_person_filter_in_nocodb(api, client):
    store = Store(api, "t-")
    app = TestClient(create_app(lambda: store, SIGNER, clock=lambda: NOW, link_clock=lambda: NOW))
    app.get(link("E1"))  # the first view reads the tables' meta
    before = api.total_calls
    assert codes(app.get(link("E6")).text)
    calls = api.total_calls - before
    # settings, calendar, employees, departments + open 月度自评 cycles + 7 item tables + requests;
    # no gates: no activities; no open cycle: no 考评表
    assert calls == 13
    before = api.total_calls
    app.get(link("E1"))
    assert api.total_calls - before == 14  # a manager reads each table's open rows once, + activities


@pytest.mark.req("STF-5", "ESC-5")
def test_the_escalation_digest_carries_the_link_that_opens_the_page(api, monkeypatch, tmp_path):
    from actops.jobs import escalations

    monkeypatch.setenv("ACTOPS_ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setenv("ACTOPS_LINK_SECRET", SIGNER.secret.decode())
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://ops.example.com")
    monkeypatch.delenv("ACTOPS_LINK_DAYS", raising=False)
    store = Store(api, "t-")
    result = escalations.run(store, NOW)
    assert result.enqueued > 0
    by = {m.recipient: m for m in result.plan.messages}
    e3 = by["E3"]
    url = re.search(r'href="(https://ops\.example\.com/todo/[^"]+)"', e3.html).group(1)
    assert f"({url})" in e3.body  # the WeCom/markdown text carries it too
    assert re.search(r'href="http://nocodb\.fake/dashboard/#/nc/\w+/\w+\?rowId=\d+">AP-1-S1</a>', e3.html)
    page = TestClient(create_app(lambda: store, SIGNER)).get(url.removeprefix("https://ops.example.com"))
    assert page.status_code == 200 and sorted(own(page.text)) == sorted(MINE["E3"])


@pytest.mark.req("STF-5")
def test_links_expire_by_the_wall_clock_whatever_the_business_time(api):
    from datetime import datetime

    from actops.kernel.calendar import TZ

    app = TestClient(create_app(lambda: Store(api, "t-"), SIGNER, clock=lambda: NOW))  # like --now
    assert app.get(link("E3", issued=NOW)).status_code == 410  # signed at NOW: long expired today
    assert app.get(link("E3", issued=datetime.now(TZ))).status_code == 200
