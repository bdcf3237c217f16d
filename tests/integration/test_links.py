"""References as links (STF-2) on the real NocoDB: staff pick, grids show names, the engine
keeps reading and writing keys in pages and batches, older bases migrate without loss."""

from __future__ import annotations

import pytest

from actops.schema import load_schema
from actops.schema.sync import apply, plan
from actops.store import Store

TABLES = {"departments", "employees", "activities"}


def without_links(specs):
    """The schema as it was before links: every reference a plain key column."""
    def plain(f):
        return f.model_copy(update={"link": False, "text_title": None}) if f.type == "ref" else f

    return tuple(b.model_copy(update={"tables": tuple(
        t.model_copy(update={"fields": tuple(plain(f) for f in t.fields)}) for t in b.tables)}) for b in specs)


def people(store):
    store.table("departments").create([{"code": "D01", "name": "市场部"}])
    store.table("employees").create([
        {"code": "E1", "name": "张三", "department": "D01", "email": "e1@corp.test", "active": True},
        {"code": "E2", "name": "李四", "department": "D01", "manager": "E1", "email": "e2@corp.test", "active": True},
    ])


@pytest.mark.req("STF-2")
def test_an_older_base_is_migrated_to_links_without_losing_a_value(api, prefix):
    old = prefix + "old-"
    apply(api, without_links(load_schema()), prefix=old, only=TABLES, log=lambda s: None)
    store = Store(api, old, without_links(load_schema()))
    people(store)
    store.table("activities").create([{"code": "A1", "name": "春季促销", "type": "市场推广", "owner": "E2",
                                       "department": "D01", "stage": "策划"}])
    acts_before = store.table("activities").rows()

    p = apply(api, load_schema(), prefix=old, only=TABLES, log=lambda s: None)
    assert sum(c.what == "add link" for c in p.changes) >= 4  # owner, department, manager, …
    assert plan(api, load_schema(), prefix=old, only=TABLES).changes == []  # and then nothing

    base = api.base_by_title(f"{old}活动运营")
    acts = base.table_by_name("activities")
    row = acts.all()[0]
    assert row["负责人"] == {"Id": row["负责人"]["Id"], **{k: v for k, v in row["负责人"].items() if k != "Id"}}
    assert row["负责人（工号）"] == "E2" and row["owner__fk"] is not None  # key kept, link filled in
    emp = base.table_by_name("employees").all(where="(工号,eq,E2)")[0]
    assert row["owner__fk"] == emp["Id"]
    form = next(v for v in acts.meta(refresh=True)["views"] if v["title"] == "活动项目启动申请表")
    shown = {c["fk_column_id"] for c in api.request("GET", f"/api/v2/meta/forms/{form['id']}")["columns"] if c["show"]}
    link = next(c for c in acts.columns() if c["title"] == "负责人")
    assert link["id"] in shown and acts.column("owner")["id"] not in shown
    fresh = Store(api, old)
    assert [r["owner"] for r in fresh.table("activities").rows()] == [r["owner"] for r in acts_before]


@pytest.mark.req("STF-2")
def test_the_engine_writes_keys_and_reads_what_people_pick(make_store):
    store = make_store(TABLES, suffix="pick-")
    people(store)
    acts = store.table("activities")
    calls = dict(store.api.calls)
    acts.create([{"code": f"A{i}", "name": f"活动{i}", "type": "培训", "owner": "E1", "department": "D01",
                  "stage": "策划", "start_date": "2026-12-01", "end_date": "2026-12-02"} for i in range(250)])
    posts = store.api.calls["POST"] - calls.get("POST", 0)
    assert posts == 3  # 250 rows with their links: still one call per 100
    raw = acts.table.all(fields=["owner__fk", "负责人"])
    e1 = next(r["Id"] for r in store.table("employees").rows() if r["code"] == "E1")
    assert {r["owner__fk"] for r in raw} == {e1}
    # A person re-picks the owner of A7 in the grid (the link's foreign key changes).
    e2 = next(r["Id"] for r in store.table("employees").rows() if r["code"] == "E2")
    a7 = next(r for r in acts.rows() if r["code"] == "A7")
    acts.table.update([{"Id": a7["Id"], "owner__fk": e2}])
    fresh = Store(store.api, store.prefix)
    gets = fresh.api.calls["GET"]
    recs, issues = fresh.table("activities").read()
    assert not issues and {r.code: r.owner for r in recs}["A7"] == "E2"  # what was picked wins
    # meta, one page of 活动 and one page of keys per linked table (员工, 部门): no per-row reads
    assert fresh.api.calls["GET"] - gets <= 10
    assert fresh.write_ref_fixes() == {"activities": 1}  # and the key column follows, once
    assert next(r for r in acts.table.all(fields=["活动编号", "负责人（工号）"]) if r["活动编号"] == "A7")["负责人（工号）"] == "E2"
