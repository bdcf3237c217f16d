"""Rendering every message and report: one Jinja environment, escaping, times, locales.

Everything staff typed is escaped (SEC-3): HTML templates autoescape, markdown goes
through the ``md`` filter; undefined names are errors (StrictUndefined). Jobs keep their
labels beside their rules, so the templates in ``templates/`` stay layout only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import jinja2

from actops.kernel.calendar import to_local

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
MD_MAX_BYTES = 4000  # WeCom bot markdown limit is 4096 bytes; keep a margin

_REPO_ROOT = Path(__file__).resolve().parents[3]
_MD_SPECIAL = re.compile(r"([\\*_`\[\]()#<>!|~])")
_SAFE_URL = re.compile(r"^https?://[^\s()<>\"'\\\[\]]+$")


def md_escape(text: object) -> str:
    """Backslash-escape markdown control characters and flatten newlines to spaces.

    Staff-typed text must not turn into formatting, links or ``<font>`` tags in WeCom.
    """
    flat = " ".join(str(text if text is not None else "").splitlines())
    # WeCom documents no backslash escapes for tags: angle brackets become full-width, so
    # no <font> or <@mention> can be formed whatever the client makes of the backslashes.
    flat = flat.replace("<", "＜").replace(">", "＞")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def local_time(dt: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in Asia/Shanghai, or a dash."""
    if dt is None:
        return "—"
    local = to_local(dt)
    if (local.hour, local.minute) == (0, 0):
        # Deadlines that end a day are stored as the next midnight; people read "by 23:59".
        local -= timedelta(minutes=1)
    return local.strftime("%Y-%m-%d %H:%M")


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """Jinja environment: autoescape for ``*.html.j2``, undefined names are errors. One per
    folder and process, so each template is compiled once, not once a message (a run with 160
    messages spent 5 s compiling); an edited template file is still picked up at its next use
    (``auto_reload`` checks the file's time)."""
    return _environment(str(templates_dir or _REPO_ROOT / "templates"))


@functools.lru_cache(maxsize=16)
def _environment(folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        auto_reload=True,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    env.filters["local_time"] = local_time
    return env


def locale_of(value: str | None) -> str:
    if value in LOCALES:
        return value
    if value and value.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def safe_link(link: str | None) -> str | None:
    """Only plain http(s) links survive; ``javascript:`` and the like are dropped."""
    link = (link or "").strip()
    return link if _SAFE_URL.match(link) else None




def fit_markdown(render: Callable[[int], str], count: int, max_bytes: int = MD_MAX_BYTES) -> str:
    """``render(n)`` with the largest ``n <= count`` whose text fits in ``max_bytes``."""
    text = render(count)
    if len(text.encode()) < max_bytes:
        return text
    lo, hi = 0, count - 1  # binary search for the most items that fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(mid).encode()) < max_bytes:
            lo = mid
        else:
            hi = mid - 1
    return render(lo)
