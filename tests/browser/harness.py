"""Drive NocoDB 0.301.3 in a real headless Chromium, as staff and managers use it.

Facts this rests on (checked on 0.301.3; see STACK.md "A real browser"):

- Sign-in is ``/dashboard/#/signin`` (``input[type=email]``, ``input[type=password]``, Enter).
  A user's first sign-in shows an onboarding page ("What do you plan on using NocoDB for?")
  with a "Skip" link.
- The interface language lives only in the browser: localStorage ``nocodb-gui-v2`` is a JSON
  object whose ``lang`` is ``"zh-Hans"`` for 简体中文 (nc-gui's locale enum ``zh_CN = "zh-Hans"``).
- A table or view opens at ``/dashboard/#/{workspaceId}/{baseId}/{tableId}[/{viewId}]``; the
  CE workspace id is the ``fk_workspace_id`` of any base or view.
- Grids are drawn on a ``<canvas>``: cell text is not in the DOM. What a grid shows is read
  from the data response it loaded (``/api/v1/db/data/noco/{base}/{table}/views/{view}…``) and
  seen in the screenshot. A grid whose ``…/views/{view}/count`` answers 0 asks for no rows at
  all. A grouped grid starts with its groups closed; a group header is a 48 px band with 12 px
  between bands, under the column header (32 px; 40 px on a phone).
- Right after a sign-in (or the reload that sets the language) NocoDB routes to the first base's
  overview by itself; a hash navigation made meanwhile can be overridden (see ``_goto_until``).
- The base list is the workspace menu (top left): one ``nc-base-list-modal-base-title-<title>``
  per base the user may open; the sidebar shows only the open base's tables.
- A base the user is not a member of: ``GET /api/v1/db/meta/projects/{base}`` answers 403, a toast
  says 「无权访问此项目」 and NocoDB sends the user to the first base they may open, its first
  table or its overview (``…/{baseId}?page=collaborator``), seen both ways: the HR base's URL, or
  a form's URL in it, opens the operations base instead.
- Any member of a base sees its overview's member list: every user of the instance with their
  e-mail (non-members as 「没有访问权限」).
- A row opens as its expanded record at ``…/{tableId}?rowId={Id}``: fields are
  ``[data-testid="nc-expand-col-<title>"]``; a date-time shows two boxes (date, time) in the
  browser's time zone; a link shows chips ``.chips .chip .name``.
- Forms are DOM: each field is ``[data-testid="nc-form-input-<title>"]`` whose class names the
  cell kind (``nc-cell-singlelinetext``, ``nc-cell-singleselect``, ``nc-cell-date``, …, and
  ``nc-virtual-cell-linktoanotherrecord`` / ``nc-virtual-cell-links`` for a link).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Playwright, Response, expect
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("ACTOPS_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
TIMEOUT_MS = 120_000  # two shared cores, NocoDB and Chromium side by side: be patient, never sleep
PACKAGES = "chromium fonts-noto-cjk"
NO_ACCESS = "无权访问此项目"  # NocoDB's zh toast for a base the user is not a member of
UI_STATE = "nocodb-gui-v2"
ZH = "zh-Hans"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PHONE_MAX_WIDTH = 768  # below this NocoDB lays itself out for a phone (its sidebar covers the page)
COLUMN_HEADER_PX, PHONE_COLUMN_HEADER_PX, GROUP_HEADER_PX, GROUP_GAP_PX = 32, 40, 48, 12
_SAFE = re.compile(r"[^0-9A-Za-z_.\u4e00-\u9fff-]+")  # file names keep Chinese, lose the rest


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium (Playwright's own download cannot work here), headless, as root."""
    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError(f"no chromium on PATH: `make test` installs it, or apt-get install -y {PACKAGES}")
    return playwright.chromium.launch(executable_path=exe, args=["--no-sandbox"], headless=True)


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """Sign in at /dashboard/#/signin and get past the first-sign-in onboarding page."""
    page.goto(f"{url}/dashboard/#/signin")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill(password)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url(lambda u: "/signin" not in u, timeout=TIMEOUT_MS)
    skip = page.get_by_text(re.compile(r"^\s*(Skip|跳过)\s*$"))
    signed_in = page.get_by_test_id("nc-sidebar-userinfo")
    skip.or_(signed_in).first.wait_for(timeout=TIMEOUT_MS)
    if skip.count() and skip.first.is_visible():
        skip.first.click()
    signed_in.wait_for(timeout=TIMEOUT_MS)


def ui_language(page: Page) -> str | None:
    return page.evaluate(f"() => (JSON.parse(localStorage.getItem('{UI_STATE}') || '{{}}')).lang || null")


def set_language_zh(page: Page) -> None:
    """Switch NocoDB's interface to 简体中文 (what avatar → Language → 简体中文 stores) and reload."""
    page.evaluate(f"""() => {{
        const state = JSON.parse(localStorage.getItem('{UI_STATE}') || '{{}}');
        state.lang = '{ZH}';
        localStorage.setItem('{UI_STATE}', JSON.stringify(state));
    }}""")
    page.reload()
    page.get_by_test_id("nc-sidebar-userinfo").wait_for(timeout=TIMEOUT_MS)
    if ui_language(page) != ZH:
        raise AssertionError(f"NocoDB did not keep its interface language: {ui_language(page)!r}")


def listed_bases(page: Page) -> list[str]:
    """Open the base list (the workspace menu, top left) and return the titles it offers.

    0.301.3 lists there every base the signed-in user may open, one
    ``[data-testid="nc-base-list-modal-base-title-<title>"]`` each (the sidebar shows only the
    open base's tables). The list stays open for a screenshot; Escape closes it.
    """
    page.get_by_test_id("nc-workspace-menu").click()
    items = page.locator('[data-testid^="nc-base-list-modal-base-title-"]')
    items.first.wait_for(timeout=TIMEOUT_MS)
    return sorted(items.nth(i).inner_text().strip() for i in range(items.count()))


def dashboard_url(url: str, workspace_id: str, base_id: str, table_id: str, view_id: str | None = None) -> str:
    return f"{url}/dashboard/#/{workspace_id}/{base_id}/{table_id}" + (f"/{view_id}" if view_id else "")


def _is_view_data(base_id: str, table_id: str, view_id: str | None) -> Callable[[Response], bool]:
    prefix = f"/api/v1/db/data/noco/{base_id}/{table_id}/views/"

    def match(r: Response) -> bool:
        path = r.url.split("?", 1)[0]
        if r.request.method != "GET" or prefix not in path:
            return False
        rest = path.split(prefix, 1)[1].split("/")
        return (view_id is None or rest[0] == view_id) and rest[1:] in ([], ["groupby"])

    return match


def _is_view_count(base_id: str, table_id: str, view_id: str | None) -> Callable[[Response], bool]:
    prefix = f"/api/v1/db/data/noco/{base_id}/{table_id}/views/"

    def match(r: Response) -> bool:
        path = r.url.split("?", 1)[0]
        if r.request.method != "GET" or prefix not in path:
            return False
        rest = path.split(prefix, 1)[1].split("/")
        return (view_id is None or rest[0] == view_id) and rest[1:] == ["count"]

    return match


def open_table(page: Page, url: str, workspace_id: str, base_id: str, table_id: str,
               view_id: str | None = None) -> Any:
    """Open a grid (a table's default view, or ``view_id``); return the data it loaded.

    The data is the JSON NocoDB answered the grid with: ``{"list": rows, "pageInfo": …}``, or
    for a grouped grid the groups (``{"list": [{"<field>": value, "count": n}, …]}``).
    """
    wanted, counted = _is_view_data(base_id, table_id, view_id), _is_view_count(base_id, table_id, view_id)
    answers: list[Response] = []
    counts: list[Response] = []

    def watch(r: Response) -> None:
        if wanted(r):
            answers.append(r)
        elif counted(r):
            counts.append(r)

    def empty() -> bool:  # an empty grid asks only for its count, never for rows
        return any(c.ok and c.json().get("count") == 0 for c in counts)

    page.on("response", watch)
    try:
        _goto_until(page, dashboard_url(url, workspace_id, base_id, table_id, view_id), view_id or table_id,
                    lambda: bool(answers) or empty())
    finally:
        page.remove_listener("response", watch)
    if (page.viewport_size or DESKTOP)["width"] < PHONE_MAX_WIDTH:
        close_sidebar(page)
    wait_for_grid_drawn(page)
    if not answers:
        return {"list": [], "pageInfo": {"totalRows": 0}}
    response = answers[0]
    assert response.ok, f"NocoDB answered {response.status} for {response.url}"
    return response.json()


def close_sidebar(page: Page) -> None:
    """On a phone NocoDB opens a view under its table list; tap × as a person would."""
    toggle = page.locator(".nc-sidebar-left-toggle-icon:visible").first
    toggle.wait_for(timeout=TIMEOUT_MS)
    toggle.click()
    page.locator(".nc-grid-wrapper canvas").first.wait_for(timeout=TIMEOUT_MS)


def wait_for_grid_drawn(page: Page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the grid's canvas stops changing (rows drawn, no loading placeholders)."""
    canvas = page.locator(".nc-grid-wrapper canvas").first
    deadline = time.monotonic() + timeout_ms / 1000

    def picture() -> bytes | None:
        try:
            canvas.wait_for(timeout=max(1, int((deadline - time.monotonic()) * 1000)))
            return canvas.screenshot()
        except PlaywrightError as exc:  # the grid was drawn anew (a new canvas): look again
            if "not attached" not in str(exc) and "detached" not in str(exc):
                raise
            return None

    before = picture()
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)  # one poll interval, not a guess at how long drawing takes
        now = picture()
        if now is not None and now == before:
            return
        before = now
    raise AssertionError("the grid kept changing; it was never drawn to the end")


def expand_groups(page: Page, count: int, base_id: str, table_id: str, view_id: str) -> list[list[dict[str, Any]]]:
    """Open the first ``count`` groups of a grouped grid (bottom one first, so none moves).

    Returns the rows NocoDB sent for each group, top group first (base_id is kept for symmetry
    with :func:`open_table`; the rows come through ``/api/v2/internal/…?operation=bulkDataList``).
    """
    box = page.locator(".nc-grid-wrapper canvas").first.bounding_box()
    assert box, "the grid has no canvas"

    def group_rows(r: Response) -> bool:  # an open group loads its rows in one bulk call
        return (r.request.method == "POST" and "operation=bulkDataList" in r.url
                and f"tableId={table_id}" in r.url and f"viewId={view_id}" in r.url)

    loaded = []
    phone = (page.viewport_size or DESKTOP)["width"] < PHONE_MAX_WIDTH
    top = box["y"] + (PHONE_COLUMN_HEADER_PX if phone else COLUMN_HEADER_PX) + GROUP_GAP_PX
    for i in reversed(range(count)):
        y = top + GROUP_HEADER_PX / 2 + i * (GROUP_HEADER_PX + GROUP_GAP_PX)
        with page.expect_response(group_rows, timeout=TIMEOUT_MS) as answer:
            page.mouse.click(box["x"] + 120, y)
        assert answer.value.ok, f"NocoDB answered {answer.value.status} for {answer.value.url}"
        loaded.append([row for chunk in answer.value.json().values() for row in chunk["list"]])
    wait_for_grid_drawn(page)
    return loaded[::-1]


def open_form(page: Page, url: str, workspace_id: str, base_id: str, table_id: str, form_id: str) -> Locator:
    """Open a form view; return its submit button once the form is drawn."""
    submit = page.get_by_test_id("nc-form-submit")
    _goto_until(page, dashboard_url(url, workspace_id, base_id, table_id, form_id), form_id, submit.is_visible)
    return submit


def open_record(page: Page, url: str, workspace_id: str, base_id: str, table_id: str, row_id: int) -> None:
    """Open one row as its expanded record (``…/{tableId}?rowId={Id}``, what a digest's row link opens)."""
    fields = page.locator('[data-testid^="nc-expand-col-"]')
    _goto_until(page, dashboard_url(url, workspace_id, base_id, table_id) + f"?rowId={row_id}", f"rowId={row_id}",
                lambda: fields.count() > 0)


def record_field(page: Page, title: str) -> Locator:
    """A field of the open expanded record: ``[data-testid="nc-expand-col-<title>"]``."""
    return page.get_by_test_id(f"nc-expand-col-{title}")


Shown = str | re.Pattern[str]


def expect_record_field(page: Page, title: str, shown: Shown | tuple[Shown, ...]) -> None:
    """The expanded record's field shows ``shown``: a link its one chip (the picked row's display
    value), a text, number or date field the value in its box (a date-time has two boxes, date and
    time: give a tuple), a select or anything else (CreatedBy) its text.

    The record draws a field's header before its value, so the kind is decided only once the
    value part is there; a field that never shows ``shown`` fails with what it shows.
    """
    cell = record_field(page, title)
    cell.wait_for(timeout=TIMEOUT_MS)
    if isinstance(shown, tuple):
        boxes = cell.locator("input")
        expect(boxes).to_have_count(len(shown), timeout=TIMEOUT_MS)
        for i, part in enumerate(shown):
            expect(boxes.nth(i)).to_have_value(part, timeout=TIMEOUT_MS)
        return
    link = cell.locator(".nc-virtual-cell-linktoanotherrecord, .nc-virtual-cell-links")
    select = cell.locator(".ant-select")  # a select keeps an empty search box beside the chosen option
    boxes = cell.locator("input, textarea")
    header = cell.locator(".nc-expanded-cell-header")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        if link.count():
            expect(link.locator(".chips .chip .name")).to_have_text([shown], timeout=TIMEOUT_MS)
            return
        if select.count():
            expect(select).to_contain_text(shown, timeout=TIMEOUT_MS)
            return
        if boxes.count():
            expect(boxes.first).to_have_value(shown, timeout=TIMEOUT_MS)
            return
        value = cell.inner_text().replace(header.inner_text() if header.count() else title, "", 1).strip()
        if value and (shown.search(value) if isinstance(shown, re.Pattern) else shown in value):
            return  # no box, no chips: a value drawn as text (CreatedBy shows the account's e-mail)
        if time.monotonic() > deadline:
            raise AssertionError(f"the record's {title} shows {value!r}, not {shown!r}")
        page.wait_for_timeout(300)  # one poll interval


def _goto_until(page: Page, target: str, marker: str, ready: Callable[[], bool]) -> None:
    """Go to a dashboard URL and wait until ``ready()``; go again if NocoDB routed elsewhere.

    Right after a sign-in (or the reload that switches the language) NocoDB 0.301.3 still
    routes to the first base's overview by itself, and that can override a hash navigation
    made meanwhile: the address loses the view (``marker``) and the overview stays (seen on a
    freshly signed-up user's first form). A page that never shows the view fails with its address.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    page.goto(target)
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{target} did not open in {TIMEOUT_MS // 1000} s; the page is at {page.url}")
        page.wait_for_timeout(300)  # one poll interval
        if marker not in page.url:
            page.goto(target)


def form_field(page: Page, title: str) -> Locator:
    return page.get_by_test_id(f"nc-form-input-{title}")


def field_kind(cell: Locator) -> str:
    """The kind of a form cell from its class: "link" for a link picker, else the cell type."""
    classes = (cell.get_attribute("class") or "").split()
    if {"nc-virtual-cell-linktoanotherrecord", "nc-virtual-cell-links"} & set(classes):
        return "link"
    kinds = [c.removeprefix("nc-cell-") for c in classes if c.startswith("nc-cell-") and c != "nc-cell-field"]
    return kinds[0] if kinds else "unknown"


def fill_field(page: Page, title: str, value: Any) -> str:
    """Fill one form field the way a person does; return its kind ("link", "singleselect", …).

    A reference field is either a text box (type the 工号) or a link picker (search for the
    value and pick the row that shows it): detected from the cell, so the test does not care
    which the schema has today.
    """
    cell = form_field(page, title)
    cell.scroll_into_view_if_needed()
    kind = field_kind(cell)
    if kind == "link":
        _pick_link(page, cell, str(value))
    elif kind in ("singleselect", "multiselect"):
        for option in [value] if isinstance(value, str) else value:
            cell.click()
            dropdown = page.locator(".ant-select-dropdown:visible .ant-select-item-option")
            dropdown.filter(has_text=str(option)).first.click()
        page.keyboard.press("Escape")
    elif kind in ("date", "datetime", "year", "time"):
        box = cell.locator("input").first
        box.click()
        box.fill(str(value))
        box.press("Enter")
        page.keyboard.press("Escape")
    elif kind == "rating":
        _rate(page, cell, int(value))
    elif kind == "longtext":
        cell.locator("textarea").first.fill(str(value))
    elif kind == "checkbox":
        if bool(value) != ("checked" in (cell.inner_html() or "")):
            cell.click()
    else:
        cell.locator("input").first.fill(str(value))
    wait_for_popups_closed(page)
    return kind


def wait_for_popups_closed(page: Page) -> None:
    """Wait until no drop-down (select options, link list) is open or still fading out."""
    expect(page.locator(".ant-dropdown:visible, .ant-select-dropdown:visible")).to_have_count(0, timeout=TIMEOUT_MS)


def _rate(page: Page, cell: Locator, stars: int) -> None:
    """A rating is a row of stars (``li.ant-rate-star``; a lit one is ``.ant-rate-star-full``): click the n-th."""
    star = cell.locator("li.ant-rate-star")
    if not 1 <= stars <= star.count():
        raise ValueError(f"{stars} stars asked, the field has {star.count()}")
    star.nth(stars - 1).click()
    expect(cell.locator("li.ant-rate-star-full")).to_have_count(stars, timeout=TIMEOUT_MS)


def _pick_link(page: Page, cell: Locator, value: str) -> None:
    cell.click()
    search = page.locator(".nc-modal-link-record input").first
    search.wait_for(timeout=TIMEOUT_MS)
    search.fill(value)
    items = page.get_by_test_id("nc-excluded-list-item")
    expect(items.filter(has_not_text=value)).to_have_count(0, timeout=TIMEOUT_MS)  # the search has run
    item = items.filter(has_text=value).first
    item.wait_for(timeout=TIMEOUT_MS)
    item.locator(".nc-list-item-link-unlink-btn").click()
    cell.locator(".chips").filter(has_text=re.compile(r"\S")).first.wait_for(timeout=TIMEOUT_MS)  # picked
    page.keyboard.press("Escape")  # a one-row link closes its list itself; a many-row one on Escape


def fill_form(page: Page, values: Mapping[str, Any]) -> dict[str, str]:
    """Fill fields by title; return each field's kind."""
    return {title: fill_field(page, title, value) for title, value in values.items()}


def submit_form(page: Page, success: str | None = None) -> Any:
    """Press 提交 and wait for the form's success screen (and its text, if given); return the new row."""
    def is_insert(r: Response) -> bool:
        return r.request.method == "POST" and "/api/v1/db/data/noco/" in r.url and "/views/" in r.url

    with page.expect_response(is_insert, timeout=TIMEOUT_MS) as answer:
        page.get_by_test_id("nc-form-submit").click()
    response = answer.value
    assert response.ok, f"the form was refused ({response.status}): {response.text()[:300]}"
    page.get_by_test_id("nc-form-submit").wait_for(state="hidden", timeout=TIMEOUT_MS)
    if success:
        page.get_by_text(success).first.wait_for(timeout=TIMEOUT_MS)
    return response.json()


def screenshot(page: Page, name: str, folder: Path = SCREENSHOTS, full_page: bool = False) -> Path:
    """Save a PNG under the test artifacts (tests/artifacts/screenshots/ unless told otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_SAFE.sub('-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
