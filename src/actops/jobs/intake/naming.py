"""The document naming rule (ACT-5): a name is checked, never corrected.

Two shapes are accepted, one from each policy that states one:

* S0 活动成果展示制度: ``活动名称-阶段-编号(日期)``, e.g. ``春季促销-策划-01(2026-03-05)``:
  the stage is one of the six stages, the number has digits only, the date is a real date
  written ``YYYY-MM-DD`` or ``YYYYMMDD``, in half- or full-width brackets;
* S1 活动宣传推广制度: ``项目名称-日期-版本号``, e.g. ``春季促销-2026-01V1``: the date is
  ``YYYY-MM`` (as in the policy's example), ``YYYY-MM-DD``, ``YYYYMM`` or ``YYYYMMDD`` and
  real, the version ``V`` and a number (``V1``, ``V2.1``), optionally after a hyphen.

A file extension (``.docx``, ``.pdf`` …) after either shape is allowed: documents are files.
Names are compared after trimming spaces at either end; spaces inside the name are kept
and make it fail (``会议记录 副本``).
"""

from __future__ import annotations

import re
from datetime import date

STAGES = ("立项申请", "策划", "客户确认", "执行", "结项验收", "归档")
EXAMPLE_S0 = "春季促销-策划-01(2026-03-05)"
EXAMPLE_S1 = "春季促销-2026-01V1"
RULE_TEXT = (f"应为「活动名称-阶段-编号(日期)」，如「{EXAMPLE_S0}」，"
             f"或「项目名称-日期-版本号」，如「{EXAMPLE_S1}」")

_EXT = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_NAME = r"(?P<name>[^\s\-_()（）][^\s()（）]*?)"  # a title without spaces or brackets
_S0 = re.compile(_NAME + r"-(?P<stage>" + "|".join(STAGES) + r")-(?P<seq>\d{1,4})"
                 r"[(（](?P<date>\d{4}-\d{2}-\d{2}|\d{8})[)）]")
_S1 = re.compile(_NAME + r"-(?P<date>\d{4}-\d{2}(?:-\d{2})?|\d{6}(?:\d{2})?)-?[Vv](?P<ver>\d+(?:\.\d+)?)")


def _real_date(text: str) -> bool:
    digits = text.replace("-", "")
    y, m = int(digits[:4]), int(digits[4:6])
    d = int(digits[6:8]) if len(digits) == 8 else 1
    try:
        date(y, m, d)
    except ValueError:
        return False
    return 2000 <= y <= 2100


def problem(name: object) -> str | None:
    """Why ``name`` breaks the rule, in words for the person who named it; None when it conforms."""
    text = str(name or "").strip()
    if not text:
        return "文档名称为空：" + RULE_TEXT
    stemmed = _EXT.sub("", text)
    for pattern in (_S0, _S1):
        m = pattern.fullmatch(stemmed)
        if m is None:
            continue
        if not _real_date(m.group("date")):
            return f"文档名称中的日期 {m.group('date')} 不是有效日期：" + RULE_TEXT
        return None
    return "文档名称不符合命名规则：" + RULE_TEXT + "；请改名（系统不会自动修改）"


def conforms(name: object) -> bool:
    return problem(name) is None
