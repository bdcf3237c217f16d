"""The archived monthly summary opened in Chromium as a department head would (SUM-2): every
chart image loads with a size, the Chinese labels are drawn, nothing personal shows.
Screenshots in tests/artifacts/screenshots/<test>/."""

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
def archived(tmp_path_factory):
    from actops_dev.seed import seed

    api = FakeApi(now=lambda: NOW)
    specs = load_schema()
    apply(api, specs, log=lambda s: None)
    store = Store(api, "", specs)
    seed(store, NOW.date())
    runner.run(JOB, store, NOW)
    folder = tmp_path_factory.mktemp("summaries")
    for name, body in api.server.files.items():
        start = body.index(b"<!DOCTYPE html>")
        (folder / name).write_bytes(body[start: body.rindex(b"</html>") + len(b"</html>")])
    return folder


@pytest.mark.req("SUM-2", "SUM-3")
@pytest.mark.parametrize("scope", ["全公司", "D04"])
def test_the_archived_summary_shows_every_chart_in_chinese(chromium, archived, scope, shot):
    context = chromium.new_context(viewport={"width": 760, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto((archived / f"SUM-2026-10-{scope}.html").as_uri())
        page.locator("#title").wait_for()
        assert "2026-10 月度总结" in page.locator("#title").inner_text()
        charts = page.locator("img.chart")
        assert charts.count() >= 2
        sizes = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert sizes and all(done and w > 200 and h > 100 for done, w, h in sizes), sizes
        shot(page, f"月度总结-{scope}", full_page=True)
        text = page.locator("body").inner_text()
        assert "执行偏差" in text and "预算执行" in text and leaks(text) == []
    finally:
        context.close()
