"""Backup and restore of NocoDB on PostgreSQL (OPS-2), as the README says to do it.

`pg_dump -Fc` of the running stack's database, `pg_restore` into a new database of a new
cluster, a second NocoDB started on it: the same bases, tables, columns, views and rows through
the API, and the same API token signs in (it is in the database too).
Runs on the PostgreSQL stack only: `ACTOPS_TEST_DB=pg`, the PG pass of `make test`.
"""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

from actops.nocodb import Api
from actops_dev.catcher import free_port

TABLES = {"settings", "departments", "employees", "activities", "documents"}


@pytest.fixture(scope="module")
def pg_stack(request):
    """The session's LocalStack on PostgreSQL; skips (before any NocoDB starts) on SQLite."""
    if os.environ.get("ACTOPS_TEST_NOCODB_URL") or (os.environ.get("ACTOPS_TEST_DB") or "sqlite") != "pg":
        pytest.skip("backup and restore of PostgreSQL: runs in the PG pass of `make test` (ACTOPS_TEST_DB=pg)")
    stack = request.getfixturevalue("_nocodb_server")[2]
    assert stack.db == "pg"
    return stack


def unsigned(row: dict) -> dict:
    """The row without its attachments' signed download links: each NocoDB signs a read link
    afresh (a random key and an expiry) on every read; the stored path, title and size stay."""
    def strip(v):
        if isinstance(v, list) and v and all(isinstance(a, dict) and "path" in a for a in v):
            return [{k: x for k, x in a.items() if k not in ("signedPath", "signedUrl")} for a in v]
        return v

    return {k: strip(v) for k, v in row.items()}


def snapshot(api: Api, prefix: str) -> dict:
    """Every base under the prefix as the API shows it: tables, columns, views and all rows."""
    out = {}
    for b in api.bases():
        if not b["title"].startswith(prefix):
            continue
        base = api.base(b["id"])
        for t in base.tables():
            table = base.table(t["id"], t["title"])
            meta = table.meta(refresh=True)
            columns = sorted((c["title"], c["column_name"], c["uidt"]) for c in meta["columns"])
            views = sorted((v["title"], v["type"]) for v in meta["views"])
            rows = sorted((unsigned(r) for r in table.all()), key=lambda r: r["Id"])
            out[(b["id"], b["title"], t["id"], t["title"])] = {"columns": columns, "views": views, "rows": rows}
    return out


@pytest.mark.req("OPS-2")
def test_pg_dump_restored_into_a_new_database_serves_the_same_base(pg_stack, make_store, prefix, api, nocodb,
                                                                     tmp_path):
    from actops_dev.stack import LocalStack

    store = make_store(TABLES)
    store.table("departments").create([{"code": "D01", "name": "市场部"}, {"code": "D02", "name": "财务部"}])
    store.table("employees").create([
        {"code": "E1", "name": "张三", "department": "D01", "email": "e1@corp.test", "active": True},
        {"code": "E2", "name": "李四", "department": "D01", "manager": "E1", "email": "e2@corp.test",
         "active": True, "on_leave_until": "2026-12-01"},
        {"code": "E3", "name": "王五", "department": "D02", "manager": "E1", "active": False},
    ])
    store.table("activities").create([{"code": "A1", "name": "春季促销", "type": "市场推广", "owner": "E2",
                                       "department": "D01", "stage": "策划", "start_date": "2026-03-01",
                                       "end_date": "2026-03-02", "budget": 50000.5}])
    # An attachment is a file in NocoDB's nc/uploads, beside the database, not a row in it.
    page = "<p>春季促销 策划方案</p>".encode()
    upload = api.upload("春季促销-策划-01(2026-03-05).html", page, "text/html")
    store.table("documents").create([{"code": "DOC1", "activity": "A1", "name": "春季促销-策划-01(2026-03-05).html",
                                      "stage": "策划", "file": upload}])
    before = snapshot(api, prefix)
    by_title = {k[3]: v for k, v in before.items()}
    assert len(by_title["员工"]["rows"]) == 3 and len(by_title["活动"]["rows"]) == 1
    assert len(by_title["系统设置"]["rows"]) >= 23  # the seed rows of schema apply

    # Backup: pg_dump of the running NocoDB's database (a consistent snapshot; no need to stop).
    dump = pg_stack.pg.dump(pg_stack.database, tmp_path / "nc.dump")
    store.table("departments").create([{"code": "D09", "name": "备份之后"}])  # after the dump: not in it

    # Restore: a new cluster and database, as on a new machine; the admin's login and the API
    # token come back with the database, so the old password file and .env are all it needs.
    data = tmp_path / "restored"
    data.mkdir()
    shutil.copy(pg_stack.data_dir / "admin-password", data / "admin-password")
    shutil.copy(pg_stack.env_path, data / ".env")
    shutil.copytree(pg_stack.data_dir / "nc" / "uploads", data / "nc" / "uploads")
    restored = LocalStack(data_dir=data, port=free_port(), env_path=data / ".env", db="pg")
    try:
        restored.pg.start(log=lambda s: None)
        restored.pg.restore(dump, restored.database)
        url, token = restored.up(log=lambda s: None)
        assert url != nocodb[0] and token == nocodb[1]  # another NocoDB; the old token works there
        restored.signin()  # and so does the admin's password
        with Api(url, token) as api2:
            after = snapshot(api2, prefix)
            docs = api2.base_by_title(f"{prefix}活动运营").table_by_name("documents")
            [file] = docs.all()[0]["文件"]
            got = httpx.get(f"{url}/{file['signedPath']}", timeout=30)
            assert got.status_code == 200 and got.content == page  # the file came back with nc/uploads
    finally:
        restored.stop()
        restored.pg.remove()

    assert after.keys() == before.keys()  # same bases and tables, with the same ids
    for key in before:
        assert after[key] == before[key], key  # same columns, views and rows, field by field
    depts = {r["部门编号"] for r in next(v for k, v in after.items() if k[3] == "部门")["rows"]}
    assert depts == {"D01", "D02"}  # D09 was written after the dump
