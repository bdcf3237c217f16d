"""「我的待办」 on a phone, reached the way an approver reaches it: the escalations job (the path
of ``actops run escalations``) e-mails the digests to a real SMTP server, the digest is opened in
a phone-sized Chromium and its 「我的待办」 link followed to ``actops serve`` (its own process, no
NocoDB sign-in). Forged and expired links get a zh-CN refusal without anyone's data.

Screenshots: tests/artifacts/screenshots/<test>/.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_TODO, LinkSigner
from actops.messaging.channels import EmailChannel
from actops.service import run_job
from actops_dev.catcher import MailCatcher, free_port
from tests.browser import harness
from tests.serving import nocodb_env, start_serve
from tests.todo_company import MINE, NOW, OVERDUE, TABLES, TEAM, company

SECRET = "browser-test-link-secret-0123456789abcdef"
APPROVERS = ("E3", "E6")  # 张三 and 周六: each has an overdue pending approval step (AP-1-S1, AP-1-S3)
NAMES = {"E1": "钱总", "E2": "赵部长", "E3": "张三", "E4": "Li Si", "E5": "孙部长", "E6": "周六"}


@pytest.fixture(scope="module")
def served(make_store, nocodb, prefix, tmp_path_factory):
    """The company, one escalation run at NOW into a real SMTP server, and `actops serve`."""
    store = make_store(TABLES, suffix="todo-")
    company(store)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = pytest.MonkeyPatch()
    env.setenv("ACTOPS_ENV_FILE", str(tmp_path_factory.mktemp("todo") / ".env"))  # not the checkout's .env
    env.setenv("ACTOPS_LINK_SECRET", SECRET)
    env.setenv("ACTOPS_PUBLIC_URL", public)
    env.delenv("ACTOPS_LINK_DAYS", raising=False)
    catcher = MailCatcher().start()
    proc = None
    try:
        channel = EmailChannel(host="127.0.0.1", port=catcher.port, sender="actops@corp.test")
        result = run_job("escalations", NOW, store=store, channels={"邮件": channel})  # `actops run escalations`
        assert result.status == "成功", (result.status, result.plan.warnings)
        mails = list(catcher.messages)
        proc = start_serve(nocodb_env(nocodb, store.prefix), tmp_path_factory.mktemp("serve"), port,
                           "--now", NOW.isoformat())
        yield {"public": public, "mails": mails}
    finally:
        if proc is not None:
            proc.stop()
        catcher.stop()
        env.undo()


def digest_of(served, code: str) -> dict:
    [mail] = [m for m in served["mails"] if m["to"] == [f"{code.lower()}@corp.test"]]
    return mail


def codes_on(page: Page, selector: str = "li.item") -> set[str]:
    return set(page.locator(selector).evaluate_all("items => items.map(i => i.dataset.code)"))


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= harness.PHONE["width"], f"the page is {width}px wide in a {harness.PHONE['width']}px window"


@pytest.mark.req("STF-3", "STF-5")
def test_each_approver_opens_the_link_in_their_digest_and_sees_exactly_their_own_items(served, fresh_phone_page, shot):
    page = fresh_phone_page
    for code, other in (APPROVERS, APPROVERS[::-1]):
        mail = digest_of(served, code)
        page.set_content(mail["html"])  # the digest, as a mail app on the phone shows it
        link = page.locator("#todo-link a")
        expect(link).to_have_text("打开「我的待办」")
        href = link.get_attribute("href") or ""
        assert href.startswith(f"{served['public']}/todo/v1."), href
        shot(page, f"{code}-digest", full_page=True)
        with page.expect_response(href) as answer:  # the link, followed
            link.click()
        assert answer.value.status == 200
        expect(page.locator("h1")).to_have_text("我的待办")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.locator("#who")).to_have_attribute("data-code", code)
        expect(page.locator("#who")).to_contain_text(f"{NAMES[code]}（{code}）")
        assert codes_on(page) == MINE[code]  # exactly their own items …
        assert not codes_on(page) & MINE[other]  # … none of the other approver's
        assert codes_on(page, "#overdue li.item") == OVERDUE[code]
        assert code not in TEAM and page.locator("#team-overdue").count() == 0  # no team: not a manager
        fits_the_phone(page)
        shot(page, f"{code}-我的待办", full_page=True)


def _refused(page: Page, url: str, status: int, heading: str) -> None:
    answer = page.goto(url)
    assert answer is not None and answer.status == status, (url, answer and answer.status)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#heading")).to_have_text(heading)
    expect(page.locator("#what-to-do")).not_to_be_empty()
    assert page.locator("li.item, #who, #items").count() == 0  # no page of anyone's items
    text = page.locator("body").inner_text()
    shown = [w for w in {*NAMES.values(), *NAMES, *(c for cs in (*MINE.values(), *TEAM.values()) for c in cs)}
             if w in text]
    assert shown == [], f"a refused link shows {shown}"
    fits_the_phone(page)


def _with_subject(token: str, code: str) -> str:
    """The token with another 工号 in its payload and its signature left as it was."""
    version, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["s"] = code
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return ".".join((version, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signature))


@pytest.mark.req("STF-5", "SEC-1")
def test_a_forged_or_expired_link_gets_a_clear_refusal_and_nobodys_data(served, fresh_phone_page, shot):
    page = fresh_phone_page
    good = digest_of(served, "E3")["html"].split('<p id="todo-link"><a href="', 1)[1].split('"', 1)[0]
    base, token = good.rsplit("/", 1)
    assert httpx.get(good, timeout=30).status_code == 200  # the very link works, so the refusals below are the change

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    _refused(page, f"{base}/{tampered}", 403, "链接无效")  # the signature changed
    shot(page, "forged-signature", full_page=True)

    _refused(page, f"{base}/{_with_subject(token, 'E6')}", 403, "链接无效")  # 张三's link made to name 周六
    shot(page, "forged-person", full_page=True)

    # A link the service really signed, from a digest sent 15 days ago (links live 14 days).
    expired = LinkSigner(SECRET.encode()).sign("E3", PURPOSE_TODO, datetime.now(TZ) - timedelta(days=15))
    _refused(page, f"{base}/{expired}", 410, "链接已过期")
    expect(page.locator("#what-to-do")).to_contain_text("最近一封提醒邮件")
    shot(page, "expired", full_page=True)
