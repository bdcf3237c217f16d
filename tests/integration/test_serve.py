"""「我的待办」 end to end: real NocoDB, a real escalation run into the SMTP catcher, and
`actops serve` as its own process; each digest's link opens exactly that person's page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest

from actops.jobs import escalations
from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_TODO, LinkSigner
from actops.messaging.channels import EmailChannel
from actops_dev.catcher import free_port
from tests.serving import nocodb_env, start_serve
from tests.todo_company import MINE, NOW, TABLES, TEAM, company

SECRET = "integration-test-link-secret-0123456789"
LINK = re.compile(r'<a href="(http://127\.0\.0\.1:\d+/todo/[^"]+)">')
ROW_LINK = re.compile(r'href="(https?://[^"]+/dashboard/#/(\w+)/(\w+)/(\w+)\?rowId=(\d+))"')


def item_codes(html: str, section: str | None = None) -> set[str]:
    if section is not None:
        m = re.search(rf'<section id="{section}".*?</section>', html, flags=re.S)
        html = m.group(0) if m else ""
    return set(re.findall(r'<li class="item[^"]*"[^>]*data-code="([^"]+)"', html))


def own(html: str) -> set[str]:
    cut = html.find('<section id="team-overdue"')
    return item_codes(html[: cut if cut >= 0 else len(html)])


@pytest.fixture(scope="module")
def served(make_store, nocodb, prefix, smtp, tmp_path_factory, monkeypatch_module):
    """The company, one escalation run at NOW (mails in the catcher), and `actops serve`."""
    store = make_store(TABLES, suffix="serve-")
    company(store)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env_file = tmp_path_factory.mktemp("serve") / ".env"
    for k, v in {"ACTOPS_ENV_FILE": str(env_file), "ACTOPS_LINK_SECRET": SECRET,
                 "ACTOPS_PUBLIC_URL": public}.items():
        monkeypatch_module.setenv(k, v)
    monkeypatch_module.delenv("ACTOPS_LINK_DAYS", raising=False)
    monkeypatch_module.delenv("NOCODB_PUBLIC_URL", raising=False)
    smtp.clear()
    result = escalations.run(store, NOW, channels={"邮件": EmailChannel(host="127.0.0.1", port=smtp.port,
                                                                       sender="actops@corp.test")})
    assert result.status in ("成功", "部分成功") and len(result.sent.messages) == 6
    served = start_serve(nocodb_env(nocodb, prefix + "serve-"), env_file.parent, port, "--now", NOW.isoformat())
    try:
        yield {"store": store, "public": public, "mails": list(smtp.messages), "proc": served.proc}
    finally:
        served.stop()
        output = served.output()
        assert "/todo/v1." not in output  # tokens never reach the service's log


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def mail_to(served, code: str) -> dict:
    [mail] = [m for m in served["mails"] if m["to"] == [f"{code.lower()}@corp.test"]]
    return mail


@pytest.mark.req("STF-3", "STF-5", "ESC-5")
@pytest.mark.parametrize("code", ["E1", "E2", "E3", "E4", "E5", "E6"])
def test_the_link_in_each_digest_opens_exactly_that_persons_page(served, code):
    mail = mail_to(served, code)
    links = LINK.findall(mail["html"])
    assert len(links) == 1 and links[0].startswith(served["public"] + "/todo/v1.")
    r = httpx.get(links[0], timeout=30)
    assert r.status_code == 200, r.text
    assert "<h1>我的待办</h1>" in r.text or "<h1>My to-dos</h1>" in r.text
    assert own(r.text) == MINE[code]
    assert item_codes(r.text, "team-overdue") == TEAM.get(code, set())
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"


@pytest.mark.req("STF-5", "ESC-5")
def test_every_item_in_a_digest_links_to_its_row_in_nocodb(served):
    mail = mail_to(served, "E1")
    rows = ROW_LINK.findall(mail["html"])
    codes = re.findall(r'rowId=\d+">([^<]+)</a>', mail["html"])
    assert rows and len(rows) == len(codes) == mail["html"].count("<tr>")
    store = served["store"]
    for (url, ws, base, table, row_id), code in zip(rows, codes, strict=True):
        assert url.startswith(store.api.url.rstrip("/") + "/dashboard/#/")  # NOCODB_PUBLIC_URL unset
        meta = store.api.request("GET", f"/api/v2/meta/tables/{table}")
        assert (meta["fk_workspace_id"], meta["base_id"]) == (ws, base)
        row = store.api.request("GET", f"/api/v2/tables/{table}/records/{row_id}")
        assert code in row.values()  # the link opens the very row the digest names


@pytest.mark.req("STF-5", "SEC-1")
def test_forged_and_expired_links_are_refused_and_show_nobodys_data(served):
    good = LINK.findall(mail_to(served, "E3")["html"])[0]
    token = good.rsplit("/", 1)[1]
    names = {"张三", "Li Si", "赵部长", "钱总", "周六", "孙部长"}
    everything = {c for cs in (*MINE.values(), *TEAM.values()) for c in cs}
    signer = LinkSigner(SECRET.encode())
    expired = signer.sign("E3", PURPOSE_TODO, datetime.now(TZ) - timedelta(days=15))
    other = LinkSigner(b"not-the-service-secret-at-all-0123456789").sign("E1", PURPOSE_TODO, datetime.now(TZ))
    cases = {
        token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"): (403, "链接无效"),
        other: (403, "链接无效"),
        expired: (410, "链接已过期"),
        "garbage": (403, "链接无效"),
    }
    for bad, (status, text) in cases.items():
        r = httpx.get(f"{served['public']}/todo/{bad}", timeout=30)
        assert r.status_code == status and text in r.text
        assert not [w for w in names | everything if w in r.text]
