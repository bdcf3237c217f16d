"""Masking of personal data in anything that leaves the bases (SUM-3, SEC-3). One module,
used by every report and message that quotes what staff or customers typed.

* mainland mobile numbers ``138****5678`` (also ``+86 138 1234 5678``), landlines ``010-****5678``;
* e-mail addresses ``z***@example.com``;
* resident ID numbers (18 characters, last may be X) ``110***********1234``;
* customer and contact names, given by the caller (names are not recognisable by pattern):
  ``华东实业`` → ``华***``, ``张伟`` → ``张*``.

Masking never fails on odd input: text without personal data comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ID = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-(\d{7,8})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _id(m: re.Match[str]) -> str:
    whole = m.group(0)
    return whole[:3] + "*" * (len(whole) - 7) + whole[-4:]


def mask_name(name: str) -> str:
    """Keep the first character: 张伟 → 张*, 华东实业有限公司 → 华*** (at most three stars)."""
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else name
    return name[0] + "*" * min(3, len(name) - 1)


def mask(text: object, names: Iterable[str] = ()) -> str:
    """``text`` with ID numbers, phone numbers, e-mail addresses and the given names masked."""
    out = "" if text is None else str(text)
    out = _ID.sub(_id, out)
    out = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", out)
    out = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-4:]}", out)
    out = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", out)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, mask_name(name))
    return out


LEAKS = (_ID, re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"),
         re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"))


def leaks(text: str, names: Iterable[str] = ()) -> list[str]:
    """What in ``text`` still looks like personal data (for tests and a last check before sending)."""
    found = [m.group(0) for p in LEAKS for m in p.finditer(text)]
    return found + [n for n in names if n and len(n) >= 2 and n in text]
