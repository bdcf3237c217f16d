"""Self-evaluation on a phone (EVA-2, EVA-7, STF-5): the invitation mailed by the evaluations
job is opened in a phone-sized Chromium, its button leads to `actops serve`'s /self/ page, which
shows the person's own form in zh-CN; without an improvement plan nothing is saved and the
page says why; with one it is saved into the person's row in NocoDB. Another person's link
shows only that person; a tampered link is refused with nobody's data.

The company, the cycles, the run and the server are those of
tests/integration/test_evaluations.py (a fresh base for this module). Screenshots in
tests/artifacts/screenshots/<test>/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_todo_in_a_browser import _with_subject, fits_the_phone
from tests.integration.conftest import smtp  # noqa: F401 (fixture)
from tests.integration.test_evaluations import (  # noqa: F401 (fixtures)
    MONTH,
    NAMES,
    monkeypatch_module,
    opened,
    page_names,
    rows,
    served,
    store,
)

MINE = {"self_results": "签约两家新客户，完成华东区三场路演", "self_ability": "谈判和方案撰写能力提升",
        "self_attitude": "主动承担展会值守", "self_score": "88"}
PLAN = "每周五复盘客户跟进情况，12 月底前完成客户分级表"


def open_invitation(page: Page, opened, code: str, shot) -> str:  # noqa: F811
    """The person's invitation as a mail app shows it; its button followed. Returns the link."""
    [mail] = opened["invites"][code]
    page.set_content(mail["html"])
    button = page.get_by_role("link", name="打开我的自评")
    href = button.get_attribute("href") or ""
    assert href == opened["links"][code]
    shot(page, f"{code}-邀请邮件", full_page=True)
    with page.expect_response(href) as answer:
        button.click()
    assert answer.value.status == 200
    page.locator("#self-eval").wait_for()
    return href


def the_form_of(page: Page, code: str) -> None:
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("h1")).to_have_text(f"自评：{MONTH}")
    expect(page.locator(".who")).to_contain_text(f"{NAMES[code]}（{code}）")
    assert page_names(page.locator("body").inner_text()) == {NAMES[code]}  # nobody else on it
    for label in ("业绩", "能力", "态度", "自评分（0–100）", "改进计划（必填）"):
        expect(page.locator("label", has_text=label)).to_be_visible()
    fits_the_phone(page)


@pytest.mark.req("EVA-2", "EVA-7", "STF-5")
def test_an_employee_self_evaluates_on_a_phone_and_the_plan_is_required(store, opened, fresh_phone_page, shot):  # noqa: F811
    page = fresh_phone_page
    link = open_invitation(page, opened, "E03", shot)
    the_form_of(page, "E03")
    shot(page, "E03-自评表", full_page=True)

    for name, value in MINE.items():
        page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="提交自评").click()  # no improvement plan: the browser keeps the form
    plan = page.locator("#improvement_plan")
    assert plan.evaluate("e => !e.validity.valid && e.validity.valueMissing")
    assert plan.evaluate("e => e.validationMessage")  # the browser's own 「请填写此字段」
    assert page.url == link and page.locator("#saved").count() == 0
    shot(page, "E03-未填改进计划", full_page=True)

    plan.fill("   ")  # only spaces: the browser lets it through, the service does not
    with page.expect_response(link) as answer:
        page.get_by_role("button", name="提交自评").click()
    assert answer.value.status == 400
    # The same form again, in Chinese, saying what is missing, with everything typed still there
    # (not a 「我的待办」 error page that sends the person back and may lose what they wrote).
    expect(page.locator("h1")).to_have_text(f"自评：{MONTH}")
    expect(page.locator("#error")).to_contain_text("请填写改进计划")
    expect(page.locator("#error")).to_contain_text("改进计划为必填项")
    assert "我的待办" not in page.content() and "cannot be opened" not in page.content()
    for name, value in MINE.items():
        expect(page.locator(f"#{name}")).to_have_value(value)
    expect(page.locator("#improvement_plan")).to_have_attribute("aria-invalid", "true")
    assert page.locator("#saved").count() == 0
    fits_the_phone(page)
    shot(page, "E03-改进计划为空被拒", full_page=True)
    assert rows(store, MONTH)["E03"]["submitted_at"] is None  # nothing saved

    page.locator("#improvement_plan").fill(PLAN)
    with page.expect_response(link) as answer:
        page.get_by_role("button", name="提交自评").click()
    assert answer.value.status == 200
    expect(page.locator("#saved")).to_contain_text("已保存")
    expect(page.locator("#improvement_plan")).to_have_value(PLAN)
    fits_the_phone(page)
    shot(page, "E03-已保存", full_page=True)

    row = rows(store, MONTH)["E03"]
    assert (row["self_results"], row["self_ability"], row["self_attitude"], row["self_score"],
            row["improvement_plan"]) == (*[MINE[k] for k in ("self_results", "self_ability", "self_attitude")],
                                         88, PLAN)
    assert row["submitted_at"] and row["token_hash"]
    assert all(r["submitted_at"] is None for e, r in rows(store, MONTH).items() if e != "E03")  # nobody else's row


@pytest.mark.req("EVA-7", "STF-5")
def test_another_persons_link_shows_only_that_person_and_a_tampered_one_nothing(store, opened, served,  # noqa: F811
                                                                               fresh_phone_page, shot):
    page = fresh_phone_page
    open_invitation(page, opened, "E04", shot)
    the_form_of(page, "E04")
    text = page.locator("body").inner_text()
    assert not [v for v in (*MINE.values(), PLAN) if v in text]  # not 赵敏's self-evaluation
    assert all(page.locator(f"#{n}").input_value() == "" for n in (*MINE, "improvement_plan"))
    shot(page, "E04-自评表", full_page=True)

    token = opened["links"]["E04"].rsplit("/", 1)[1]
    for what, bad in (("签名被改", token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")),
                      ("工号被改", _with_subject(token, "E03"))):
        answer = page.goto(f"{served.url}/self/{bad}")
        assert answer is not None and answer.status == 403, what
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.locator("h1")).to_have_text("自评")  # the page the link was for, not 「我的待办」
        expect(page.locator("#heading")).to_have_text("链接无效")
        expect(page.locator("#what-to-do")).to_contain_text("原始链接")
        assert page.locator("#self-eval, form").count() == 0
        assert not page_names(page.locator("body").inner_text()), what
        fits_the_phone(page)
        shot(page, f"篡改链接-{what}", full_page=True)
