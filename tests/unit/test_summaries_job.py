"""The monthly summary job on the sample company (in-memory NocoDB): one archived row per
scope with its HTML file, each head mailed with charts inside, nothing personal unmasked,
once per month, --force makes a version that says so (SUM-1..3, SEC-3)."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs.summaries import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.messaging.masking import leaks
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def company():
    from actops_dev.seed import seed

    api = FakeApi(now=lambda: NOW)
    specs = load_schema()
    apply(api, specs, log=lambda s: None)
    store = Store(api, "", specs)
    seed(store, NOW.date())
    return api, store


@pytest.mark.req("SUM-1", "SUM-2", "SUM-3", "SEC-3")
def test_a_month_is_summarised_once_for_each_head_with_charts_and_nothing_personal(company):
    api, store = company
    first = runner.run(JOB, store, NOW)
    assert first.status in ("成功", "部分成功"), first.plan.warnings
    rows = store.table("summaries").rows()
    scopes = {r["scope"] for r in rows}
    assert "全公司" in scopes and len(scopes) >= 5 and {r["period"] for r in rows} == {"2026-10"}
    assert all(r["report"] and r["report"][0]["title"] == f"{r['code']}.html" for r in rows)
    files = api.server.files  # what was stored in NocoDB
    assert len(files) == len(rows)
    mails = [m for m in first.plan.messages if m.channel == "邮件"]
    company_mail = next(m for m in mails if "全公司" in m.subject)
    assert company_mail.images and all(f"cid:{cid}" in company_mail.html for cid, _ in company_mail.images)
    assert all(png.startswith(b"\x89PNG") for _, png in company_mail.images)

    customers = store.table("customers").rows(fields=["name", "contact_name", "contact_phone", "contact_email"])
    staff = {e["name"] for e in store.table("employees").rows(fields=["name"])}
    # A contact who shares a name with a staff member (the sample has one) is named as that
    # staff member (an owner of a delay); staff names are not masked, by the policy.
    names = [c[k] for c in customers for k in ("name", "contact_name") if c.get(k) and c[k] not in staff]
    assert len(names) > 20
    everything = [first.plan.report, *(m.html + m.body for m in first.plan.messages),
                  *(f.decode("utf-8", "replace") for f in files.values())]
    for text in everything:
        assert leaks(text, names) == []
    assert not any(c["contact_phone"] and c["contact_phone"] in t for c in customers for t in everything)

    again = runner.run(JOB, store, NOW)  # once per month: a rerun sends nothing and adds no row
    assert again.enqueued == 0 and len(store.table("summaries").rows()) == len(rows)

    forced = runner.run(JOB, store, NOW, params={"force": True, "department": "D03"})
    new = [r for r in store.table("summaries").rows() if r["code"].endswith("-v2")]
    assert [r["code"] for r in new] == ["SUM-2026-10-D03-v2"]
    assert forced.enqueued >= 1 and all("第 2 版" in m.subject for m in forced.plan.messages)
