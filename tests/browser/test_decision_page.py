"""An approver decides from the reminder on a phone (STF-5, APR-3): the button in the e-mail
opens our page, 通过 with a comment is recorded, the next step opens; the same link again,
a forged and an expired link are refused with a page that shows no data. Screenshots in
tests/artifacts/screenshots/<test>/."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest

from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_APPROVE, LinkSigner
from tests.integration.conftest import smtp  # noqa: F401 (fixture)
from tests.integration.test_approvals import by_code, new_request, run, served, store  # noqa: F401 (fixtures)
from tests.integration.test_automations import LINK_SECRET


def _mail_link(catcher, code: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in catcher.messages:
            if code in (m.get("subject") or "") and "/approve/" in (m.get("html") or ""):
                return re.search(r'href="([^"]+/approve/[^"]+)"', m["html"]).group(1).replace("&amp;", "&")
        time.sleep(0.2)
    raise AssertionError(f"no approval mail for {code}: {[m.get('subject') for m in catcher.messages]}")


@pytest.mark.req("STF-5", "APR-3")
def test_an_approver_decides_on_a_phone_from_the_link_in_the_mail(store, served, smtp, phone_page, shot):  # noqa: F811
    smtp.clear()
    new_request(store, "AP-B1", "费用", 12_000)  # 主管 赵主管 → 财务 孙财务; the webhook wakes the job
    link = _mail_link(smtp, "AP-B1")
    assert link.startswith(served.url + "/approve/")
    page = phone_page
    page.goto(link)
    page.locator("#decide").wait_for()
    assert page.locator("h1").inner_text() == "审批：费用12000"
    assert "赵主管" in page.locator(".who").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot(page, "审批页面", full_page=True)
    page.locator("#comment").fill("同意，注意保留发票。")
    page.locator("button.yes").click()
    page.locator("#done").wait_for()
    assert "已记录：通过" in page.locator("h1").inner_text()
    shot(page, "已记录")

    deadline = time.monotonic() + 30  # the decision woke the job: the next step opens by itself
    while by_code(store, "approval_steps")["AP-B1-S2"]["status"] != "待审批":
        assert time.monotonic() < deadline, served.output()[-2000:]
        time.sleep(0.3)
    d = by_code(store, "approval_decisions")["AP-B1-S1-D"]
    assert (d["decision"], d["by"], d["comment"]) == ("通过", "E03", "同意，注意保留发票。")

    page.goto(link)  # the link worked once
    page.locator("#message").wait_for()
    assert page.locator("#heading").inner_text() == "这一步已经处理过"
    detail = page.locator("#detail").inner_text()
    assert "赵主管" in detail and page.locator("#decision").count() == 0
    decided = datetime.fromisoformat(d["at"].replace("Z", "+00:00")).astimezone(TZ)
    assert f"{decided:%Y-%m-%d %H:%M}" in detail  # Beijing time, as everywhere staff read times
    shot(page, "链接已用过")

    token = link.rsplit("/", 1)[1]
    page.goto(link[: -len(token)] + token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    page.locator("#message").wait_for()
    assert page.locator("#heading").inner_text() == "链接无效" and "审批申请" not in page.content()
    shot(page, "伪造链接")
    old = LinkSigner(LINK_SECRET.encode()).sign("E05", PURPOSE_APPROVE, datetime.now(TZ) - timedelta(days=60),
                                                 ref="AP-B1-S2")
    page.goto(f"{served.url}/approve/{old}")
    page.locator("#message").wait_for()
    assert page.locator("#heading").inner_text() == "链接已过期"
    shot(page, "过期链接")
    run(store)
