"""Charts of a monthly summary as PNG images with Chinese labels (SUM-2).

matplotlib draws them (Agg, no display). Its bundled fonts have no Chinese glyphs, so a CJK
font must be on the machine: Noto Sans CJK (Debian ``fonts-noto-cjk``, installed by
``make fonts``) or another from ``FONT_FILES``/fontconfig. Without one, :class:`FontMissing`
says what to install; the summary then goes out without charts rather than with boxes.
"""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
PACKAGE = "fonts-noto-cjk"
COLORS = ("#0969da", "#1a7f37", "#cf222e", "#9a6700", "#8250df")


class FontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Chart:
    cid: str  # content id in the e-mail (``cid:<cid>``), and the file name in the archive
    title: str
    png: bytes


@cache
def cjk_font() -> str:
    """Path of a font with Chinese glyphs (ACTOPS_CJK_FONT, the known files, then fontconfig)."""
    for path in (os.environ.get("ACTOPS_CJK_FONT"), *FONT_FILES):
        if path and Path(path).is_file():
            return path
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if found and Path(found).is_file() and any(k in found.lower() for k in ("cjk", "wqy", "droid")):
        return found
    raise FontMissing(f"no Chinese font for the charts: install {PACKAGE} (`make fonts`, or apt-get install -y "
                      f"{PACKAGE}) or set ACTOPS_CJK_FONT to a .ttf/.ttc with Chinese glyphs")


def _figure(title: str, height: float = 2.8):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = font_manager.FontProperties(fname=cjk_font())
    fig, ax = plt.subplots(figsize=(6.4, height), dpi=110)
    ax.set_title(title, fontproperties=font, fontsize=13, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return plt, fig, ax, font


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def bars(cid: str, title: str, values: dict[str, float], unit: str = "", horizontal: bool = False) -> Chart:
    plt, fig, ax, font = _figure(title, height=max(2.4, 0.38 * len(values) + 1.2) if horizontal else 2.8)
    from matplotlib.ticker import MaxNLocator

    labels, nums = list(values), [float(v) for v in values.values()]
    if all(v.is_integer() for v in nums):  # counts: no 0.25 of an activity on the axis
        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        ax.barh(labels[::-1], nums[::-1], color=COLORS[0])
        ax.set_yticks(range(len(labels)), labels[::-1], fontproperties=font)
        for i, v in enumerate(nums[::-1]):
            ax.text(v, i, f" {v:g}{unit}", va="center", fontproperties=font, fontsize=9)
    else:
        ax.bar(labels, nums, color=COLORS[0])
        ax.set_xticks(range(len(labels)), labels, fontproperties=font)
        for i, v in enumerate(nums):
            ax.text(i, v, f"{v:g}{unit}", ha="center", va="bottom", fontproperties=font, fontsize=9)
    return Chart(cid, title, _png(plt, fig))


def paired(cid: str, title: str, values: dict[str, tuple[float, float]], names: tuple[str, str]) -> Chart:
    """Two bars per label (e.g. budget and spent per category)."""
    plt, fig, ax, font = _figure(title)
    labels = list(values)
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [a for a, _ in values.values()], width=0.4, color=COLORS[0], label=names[0])
    ax.bar([x + 0.2 for x in xs], [b for _, b in values.values()], width=0.4, color=COLORS[3], label=names[1])
    ax.set_xticks(list(xs), labels, fontproperties=font)
    ax.legend(prop=font, frameon=False)
    return Chart(cid, title, _png(plt, fig))
