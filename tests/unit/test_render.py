"""Digest rendering: labels per locale, escaping of staff text, WeCom size limit (ESC-5, SEC-3)."""

from __future__ import annotations

import re
from datetime import datetime

import jinja2
import pytest

from actops.jobs.escalations.digests import Digest
from actops.jobs.escalations.items import ItemKind, Notice, OpenItem
from actops.jobs.escalations.messages import render_digest
from actops.kernel.calendar import TZ
from actops.kernel.org import Person
from actops.messaging.render import environment, md_escape

NOW = datetime(2026, 10, 12, 16, 0, tzinfo=TZ)
EVIL = "<script>alert(1)</script>**x**"


def manager(locale="zh-CN") -> Person:
    return Person("M1", "王主管", email="m1@example.com", locale=locale)


def notice(row_id, kind=ItemKind.APPROVAL, rung=1, title="采购审批", urgent=False, link=None,
           due=datetime(2026, 10, 9, 15, 0, tzinfo=TZ)):
    item = OpenItem(
        kind,
        "t",
        row_id,
        f"C-{row_id:03d}",
        title,
        "E1",
        due,
        urgent=urgent,
        link=link,
    )
    return Notice(item, rung, "M1", "manager", f"t:{row_id}:r{rung}:M1", "张三")


def digest(notices, locale="zh-CN", urgent=False, by_department=()) -> Digest:
    return Digest(
        manager(locale), tuple(notices), urgent, tuple(n.dedupe_key for n in notices), None,
        by_department=tuple(by_department),
    )


@pytest.mark.req("SEC-3")
def test_staff_text_is_escaped_in_html_and_markdown():
    subject, html, md = render_digest(digest([notice(1, title=EVIL)]), NOW)
    assert "<script>" not in html and "</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;**x**" in html
    assert "<script>" not in md
    assert r"＜script＞alert\(1\)＜/script＞\*\*x\*\*" in md
    assert "<script>" not in subject


@pytest.mark.req("SEC-3")
def test_md_escape():
    # Angle brackets become full-width: no WeCom tag (<font>, <@id>) can be formed.
    assert md_escape("a*b_c`d[e](f)#g<h>!i|j~k") == r"a\*b\_c\`d\[e\]\(f\)\#g＜h＞\!i\|j\~k"
    assert md_escape("line1\nline2\r\nline3") == "line1 line2 line3"
    assert md_escape("a\\b") == "a\\\\b"
    assert md_escape(None) == ""


@pytest.mark.req("ESC-5")
def test_zh_cn_digest_lists_groups_rungs_and_owner():
    notices = [
        notice(1, ItemKind.APPROVAL, rung=2),
        notice(2, ItemKind.REPORT, rung=3, title="九月月报"),
        notice(3, ItemKind.POSTHOC, rung=1, title="紧急采购补办", urgent=True),
    ]
    subject, html, md = render_digest(digest(notices, urgent=True), NOW)
    assert subject == "【紧急】待办提醒：王主管，您有 3 项事项需要处理"
    for text in (html, md):
        assert text.index("审批") < text.index("工作报告") < text.index("特批补办")
        assert "已升级至上级" in text and "已升级至总经理" in text and "提醒" in text
        assert "2026-10-09 15:00" in text and "张三" in text and "C-002" in text
    assert "截至 2026-10-12 16:00" in html
    assert html.count("张三") == 2  # owner shown for the two escalated rows only
    assert "C\\-001" not in md and "C-001" in md


@pytest.mark.req("ESC-5")
def test_english_and_locale_fallback():
    subject, html, md = render_digest(digest([notice(1, rung=2)], locale="en"), NOW)
    assert subject == "Reminder: 王主管, 1 item needs your attention"
    assert "Approvals" in html and "Escalated to manager" in html and "owner 张三" in md
    subject, html, _ = render_digest(digest([notice(1)], locale="fr"), NOW)
    assert subject.startswith("待办提醒") and "审批" in html


@pytest.mark.req("ESC-5")
def test_markdown_is_truncated_under_4000_bytes_with_remainder_line():
    notices = [notice(i, title="很长的标题" * 30) for i in range(1, 80)]
    _, html, md = render_digest(digest(notices), NOW)
    assert len(md.encode()) < 4000
    shown = len(re.findall(r"^- ", md, flags=re.MULTILINE))
    assert 0 < shown < 79
    assert f"…及其他 {79 - shown} 项" in md
    # The e-mail lists the 20 most urgent and counts the rest (see the tests below).
    assert html.count("<tr>") == 20 and "另有 59 项未在此列出" in html
    _, _, small = render_digest(digest(notices[:3]), NOW)
    assert "及其他" not in small


@pytest.mark.req("SEC-3")
def test_only_http_links_are_rendered():
    ok = notice(1, link="https://noco.example.com/#/row/1")
    bad = notice(2, link="javascript:alert(1)")
    _, html, md = render_digest(digest([ok, bad]), NOW)
    assert 'href="https://noco.example.com/#/row/1"' in html
    assert "javascript" not in html and "javascript" not in md
    assert "[C\\-001]" not in md and "[C-001](https://noco.example.com/#/row/1)" in md


@pytest.mark.req("SEC-3")
def test_environment_autoescapes_html_only_and_is_strict(tmp_path):
    (tmp_path / "x.html.j2").write_text("{{ v }}", encoding="utf-8")
    (tmp_path / "x.txt.j2").write_text("{{ v }}", encoding="utf-8")
    env = environment(tmp_path)
    assert env.get_template("x.html.j2").render(v="<b>") == "&lt;b&gt;"
    assert env.get_template("x.txt.j2").render(v="<b>") == "<b>"
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("x.txt.j2").render()


def test_end_of_day_deadlines_read_as_2359_of_that_day():
    from actops.messaging.render import local_time

    assert local_time(datetime(2026, 12, 28, 0, 0, tzinfo=TZ)) == "2026-12-27 23:59"
    assert local_time(datetime(2026, 12, 28, 15, 0, tzinfo=TZ)) == "2026-12-28 15:00"


TODO_URL = "https://ops.example.com/todo/v1.eyJrIjoiYSJ9.c2ln"
KINDS = [ItemKind.APPROVAL, ItemKind.REPORT, ItemKind.ACTION, ItemKind.GATE, ItemKind.PROBLEM]


def general_managers_digest(locale="zh-CN"):
    """344 items like the demo's general manager: mixed kinds, rungs and due times, one urgent."""
    out = []
    for i in range(1, 345):
        due = datetime(2026, 10, 1 + i % 20, 9, 0, tzinfo=TZ)
        out.append(notice(i, KINDS[i % 5], rung=3 if i % 7 == 0 else 2, due=due,
                          link=f"https://noco.example.com/dashboard/#/w/b/t?rowId={i}"))
    out.append(notice(999, ItemKind.POSTHOC, rung=1, title="紧急采购补办", urgent=True,
                      due=datetime(2026, 10, 30, tzinfo=TZ),
                      link="https://noco.example.com/dashboard/#/w/b/t?rowId=999"))
    depts = [("市场部", 200), ("<b>技术部</b>", 100), ("—", 45)]
    return digest(out, locale, urgent=True, by_department=depts)


@pytest.mark.req("ESC-5", "STF-3")
def test_a_long_digest_lists_the_20_most_urgent_then_counts_and_links_to_my_todo():
    d = general_managers_digest()
    _, html, md = render_digest(d, NOW, todo_url=TODO_URL)
    listed = [int(c) for c in re.findall(r">C-(\d+)</a>", html)]
    assert len(listed) == 20 and html.count("<tr>") == 20
    rung3 = sorted((n for n in d.notices if n.rung == 3), key=lambda n: (n.item.due_at, n.item.code))
    # Urgent first, then the highest rung, then the earliest due time.
    assert set(listed) == {999} | {n.item.row_id for n in rung3[:19]}
    assert "另有 325 项未在此列出" in html and "全部 345 项" in html
    assert "审批 68 项" in html and "问题整改 69 项" in html and "特批补办 1 项" in html  # every kind counted, all 345 items
    assert "市场部 200 项" in html and "&lt;b&gt;技术部&lt;/b&gt;" in html and "<b>技术部" not in html
    assert f'<a href="{TODO_URL}">打开「我的待办」</a>查看全部 345 项' in html
    # Every listed item links to its NocoDB row.
    assert html.count('href="https://noco.example.com/dashboard/#/w/b/t?rowId=') == 20
    assert len(md.encode()) < 4000
    assert f"[打开「我的待办」]({TODO_URL})" in md and "按部门：市场部 200" in md
    assert "＜b＞技术部＜/b＞" in md  # staff-typed department names are escaped (SEC-3)
    shown = len(re.findall(r"^- ", md, flags=re.MULTILINE))
    assert 0 < shown <= 20 and f"…及其他 {345 - shown} 项（以上为最紧急的 {shown} 项）" in md
    assert "紧急采购补办" in md  # the urgent item is never the one left out


@pytest.mark.req("ESC-5")
def test_a_long_english_digest_counts_and_links_too():
    _, html, md = render_digest(general_managers_digest("en"), NOW, todo_url=TODO_URL)
    assert "These are the 20 most urgent items" in html and "325 more" in html
    assert "Approvals 68" in html and f'<a href="{TODO_URL}">' in html
    assert f"[Open 「我的待办」 (my to-dos)]({TODO_URL})" in md and len(md.encode()) < 4000


@pytest.mark.req("STF-5", "ESC-5")
def test_every_digest_carries_the_personal_link_and_none_without_one():
    small = digest([notice(1), notice(2, ItemKind.REPORT)])
    _, html, md = render_digest(small, NOW, todo_url=TODO_URL)
    assert f'<a href="{TODO_URL}">打开「我的待办」</a>查看您的全部待办' in html
    assert f"({TODO_URL})" in md
    assert "按类别" not in html and "另有" not in html  # short digests list everything
    _, html, md = render_digest(small, NOW)  # no ACTOPS_LINK_SECRET: no link, no error
    assert "我的待办" not in html and "我的待办" not in md and "todo" not in html
    _, html, md = render_digest(general_managers_digest(), NOW)
    assert "我的待办" not in html and "请在系统中查看其余事项" in html
    _, html, md = render_digest(small, NOW, todo_url="javascript:alert(1)")
    assert "javascript" not in html and "javascript" not in md


def test_a_template_is_compiled_once_per_process_and_an_edit_is_still_picked_up(tmp_path):
    import os

    (tmp_path / "hello.txt.j2").write_text("你好 {{ name }}", encoding="utf-8")
    env = environment(tmp_path)
    assert environment(tmp_path) is env  # one environment per folder: templates compile once
    assert env.get_template("hello.txt.j2").render(name="王") == "你好 王"
    t = env.get_template("hello.txt.j2")
    assert env.get_template("hello.txt.j2") is t  # cached while the file is unchanged
    (tmp_path / "hello.txt.j2").write_text("您好 {{ name }}", encoding="utf-8")
    st = os.stat(tmp_path / "hello.txt.j2")
    os.utime(tmp_path / "hello.txt.j2", (st.st_atime, st.st_mtime + 5))  # an admin's edit, seconds later
    assert environment(tmp_path).get_template("hello.txt.j2").render(name="王") == "您好 王"
