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


def notice(row_id, kind=ItemKind.APPROVAL, rung=1, title="采购审批", urgent=False, link=None):
    item = OpenItem(
        kind,
        "t",
        row_id,
        f"C-{row_id:03d}",
        title,
        "E1",
        datetime(2026, 10, 9, 15, 0, tzinfo=TZ),
        urgent=urgent,
        link=link,
    )
    return Notice(item, rung, "M1", "manager", f"t:{row_id}:r{rung}:M1", "张三")


def digest(notices, locale="zh-CN", urgent=False) -> Digest:
    return Digest(
        manager(locale), tuple(notices), urgent, tuple(n.dedupe_key for n in notices), None
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
    assert html.count("<tr>") == 79  # the e-mail keeps everything
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
