"""Request bodies `schema apply` sends to NocoDB, built from the spec (pure functions).

What staff see of the machinery is Chinese: a description is the zh ``help`` of a field or
the zh ``description`` of a base, table, view or form, and nothing when the yaml has none.
The English titles stay in the yaml (for the en locale and the docs); they are not written
into NocoDB.
"""

from __future__ import annotations

import copy
from typing import Any

from actops.schema.spec import FieldSpec

# Descriptions written by earlier versions of `schema apply` ("en: Budget — help text").
LEGACY_PREFIX = "en: "


def describe(text: str) -> str | None:
    """A description as NocoDB stores it: the text, or None for none."""
    return text.strip() or None


def field_description(f: FieldSpec) -> str | None:
    """A linked reference's key column says where its value comes from; the link (what
    staff pick, see :mod:`actops.schema.links`) carries the help."""
    if f.type == "ref" and f.link:
        return f"由系统按「{f.zh}」填写；请在「{f.zh}」中选择，勿手工修改"
    return describe(f.help)


def precision_meta(f: FieldSpec) -> dict[str, Any]:
    """Column meta for the decimals shown.

    NocoDB 0.301 keeps them in ``meta.precision`` (the number of decimals, 0–8); a Decimal
    column without it shows 1 decimal (nocodb-sdk ``DecimalHelper.columnDefaultMeta`` and
    ``parseDecimalValue``: ``columnMeta.precision ?? 1``), so 0.02 reads "0.0".
    """
    p = f.shown_precision
    return {} if p is None else {"precision": p}


def column_meta(f: FieldSpec) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if f.type == "rating":
        meta["max"] = 5
    if f.type == "currency":  # NocoDB defaults to USD
        meta.update(currency_locale="zh-CN", currency_code="CNY")
    meta.update(precision_meta(f))
    return meta


def column_payload(f: FieldSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "column_name": f.name,
        "title": f.key_column_title,
        "uidt": f.uidt,
        "description": field_description(f),
    }
    if f.options:
        body["colOptions"] = {"options": [{"title": o} for o in f.options]}
    if f.type == "formula":
        body["formula_raw"] = f.formula
    if f.default is not None and f.type in ("checkbox", "number", "decimal", "select", "text"):
        body["cdf"] = _cdf(f.default)
    meta = column_meta(f)
    if meta:
        body["meta"] = meta
    return body


def _cdf(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_ours_to_replace(live: str | None, wanted: str | None) -> bool:
    """Whether `schema apply` may overwrite a live description with ``wanted``.

    Yes for what a machine wrote: the old ``en: …`` text, or nothing at all when the schema
    now has something to say. A description someone typed in NocoDB is left alone.
    """
    live = live or None
    if live == wanted:
        return False
    return live is None or live.startswith(LEGACY_PREFIX)


def precision_change(live_col: dict[str, Any], f: FieldSpec) -> tuple[Any, int] | None:
    """(live, wanted) decimals when a Decimal/Percent column shows another precision."""
    wanted = f.shown_precision
    if wanted is None or live_col.get("uidt") != f.uidt:
        return None
    have = (live_col.get("meta") or {}).get("precision")
    return None if have == wanted else (have, wanted)


def column_update(live_col: dict[str, Any], *, description: Any = ..., meta: dict[str, Any] | None = None,
                  add_options: list[str] | None = None) -> dict[str, Any]:
    """Body for ``PATCH /api/v2/meta/columns/{id}`` that changes only what is given.

    NocoDB's column update is a replace, not a patch (``ColumnsService.columnUpdate`` →
    ``Column.update`` in 0.301): it re-creates select options from ``colOptions``, takes the
    formula from ``formula_raw``, writes ``meta`` as sent and alters the database column from
    the body. So the body is the live column as read from the table meta, with the change on
    top; meta keys are merged, not replaced.
    """
    body = copy.deepcopy(live_col)
    if description is not ...:
        body["description"] = description
    if meta:
        body["meta"] = {**(live_col.get("meta") or {}), **meta}
    if add_options:  # kept options keep their ids (rows keep their values); new ones are appended
        have = list((live_col.get("colOptions") or {}).get("options", []))
        body["colOptions"] = {"options": have + [{"title": o} for o in add_options]}
    if live_col.get("uidt") == "Formula":
        body["formula_raw"] = (live_col.get("colOptions") or {}).get("formula_raw")
    return body


# The company's day for relative date filters (``today``, ``oneMonthAgo``…). NocoDB takes it
# from the filter's meta; a filter made through the API has none and counts days in UTC, so
# between 00:00 and 08:00 Shanghai "overdue" views missed yesterday's items.
FILTER_TIMEZONE = "Asia/Shanghai"


def filter_body(fk_column_id: str, op: str, rest: list[Any]) -> dict[str, Any]:
    """Body for a view filter: ``rest`` is ``[value]``, ``[sub_op, value]`` or ``[]``."""
    body: dict[str, Any] = {"fk_column_id": fk_column_id, "comparison_op": op}
    if len(rest) == 2:
        body["comparison_sub_op"], body["value"] = rest[0], rest[1] or None
        body["meta"] = {"timezone": FILTER_TIMEZONE}
    elif len(rest) == 1:
        body["value"] = rest[0]
    return body


def needs_timezone(live_filter: dict[str, Any]) -> bool:
    """A relative date filter that counts its days in another timezone than the company's."""
    meta = live_filter.get("meta")
    return bool(live_filter.get("comparison_sub_op")) and not (
        isinstance(meta, dict) and meta.get("timezone") == FILTER_TIMEZONE)
