"""One headless Chromium per test session, signed in once; a fresh window per test.

Run alone with ``.venv/bin/python -m pytest tests/browser`` (or ``-m browser``). Screenshots
go to ``tests/artifacts/screenshots/<test>/`` (``ACTOPS_TEST_ARTIFACTS`` moves them); a failing
test leaves a ``failed.png`` of the page it was on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import harness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    shutil.rmtree(harness.SCREENSHOTS, ignore_errors=True)  # this run's pictures only
    with sync_playwright() as p:
        browser = harness.launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def signed_in(chromium, nocodb, nocodb_login) -> dict[str, Any]:
    """Browser storage of the admin, signed in once, NocoDB's interface in 简体中文."""
    context = chromium.new_context(viewport=harness.DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(harness.TIMEOUT_MS)
    harness.sign_in(page, nocodb[0], *nocodb_login)
    harness.set_language_zh(page)
    state = context.storage_state()
    context.close()
    return state


def _page(request, chromium: Browser, state: dict[str, Any] | None, **options: Any) -> Iterator[Page]:
    context = chromium.new_context(storage_state=state, locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(harness.TIMEOUT_MS)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        harness.screenshot(page, "failed", harness.SCREENSHOTS / request.node.name)
    context.close()


@pytest.fixture
def page(request, chromium, signed_in) -> Iterator[Page]:
    """A desktop window (1440×900) of the signed-in admin."""
    yield from _page(request, chromium, signed_in, viewport=harness.DESKTOP)


@pytest.fixture
def fresh_page(request, chromium) -> Iterator[Page]:
    """A desktop window nobody has signed in from."""
    yield from _page(request, chromium, None, viewport=harness.DESKTOP)


PHONE_OPTIONS = {"viewport": harness.PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone_page(request, chromium, signed_in) -> Iterator[Page]:
    """A phone-sized window (390×844, touch) of the signed-in admin."""
    yield from _page(request, chromium, signed_in, **PHONE_OPTIONS)


@pytest.fixture
def fresh_phone_page(request, chromium) -> Iterator[Page]:
    """A phone-sized window (390×844, touch) nobody has signed in from (our own pages need no NocoDB)."""
    yield from _page(request, chromium, None, **PHONE_OPTIONS)


@pytest.fixture
def windows(request, chromium) -> Iterator[Callable[..., Page]]:
    """Opens fresh desktop windows, one per person, for tests where several people sign in.

    Each window is its own browser context (own storage: signing in in one signs in nobody else),
    in Beijing time like the people it stands for.
    A failing test leaves ``failed-<n>.png`` of every window it opened.
    """
    opened: list[Page] = []

    def open_window(viewport: dict[str, int] = harness.DESKTOP) -> Page:
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(harness.TIMEOUT_MS)
        opened.append(page)
        return page

    yield open_window
    report = getattr(request.node, "rep_call", None)
    for n, page in enumerate(opened, 1):
        if report is not None and report.failed:
            harness.screenshot(page, f"failed-{n}", harness.SCREENSHOTS / request.node.name)
        page.context.close()


@dataclass
class Shots:
    """Numbered screenshots of one test: tests/artifacts/screenshots/<test>/NN-<name>.png."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page: Page, name: str, full_page: bool = False) -> Path:
        path = harness.screenshot(page, f"{len(self.taken) + 1:02d}-{name}", self.folder, full_page)
        self.taken.append(path)
        return path


@pytest.fixture
def shot(request) -> Callable[[Page, str], Path]:
    return Shots(harness.SCREENSHOTS / request.node.name)
