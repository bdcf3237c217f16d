"""Client vs raw httpx on the same NocoDB, in one run: paged reads and batch writes.

Prints rows/s for each, the ratio client/raw (1.0 = the client adds nothing), and the API
calls the client made. Ratios, not seconds: the machine's speed cancels out.

    .venv/bin/python bench/read_write.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import math
import uuid

import httpx
from common import raw_pages, raw_write, timed

from actops import config
from actops.nocodb import Api

COLUMNS = [
    {"column_name": "code", "title": "编号", "uidt": "SingleLineText"},
    {"column_name": "qty", "title": "数量", "uidt": "Number"},
    {"column_name": "note", "title": "备注", "uidt": "SingleLineText"},
]


def rows(n: int, tag: str) -> list[dict]:
    return [{"编号": f"{tag}{i:06d}", "数量": i, "备注": "活动运营基准测试"} for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3, help="alternate raw/client this many times; best of each")
    args = ap.parse_args()
    cfg = config.nocodb()
    api = Api(cfg.url, cfg.token)
    http = httpx.Client(base_url=cfg.url, headers={"xc-token": cfg.token}, timeout=120)
    base = api.create_base(f"bench-{uuid.uuid4().hex[:6]}")
    t_raw = base.create_table("raw_rows", "raw", COLUMNS)
    t_cli = base.create_table("client_rows", "client", COLUMNS)
    n = args.rows

    # Writes: each side writes n rows into its own table, in alternating halves so that
    # neither side gets the server's cold start or a fuller table to itself.
    half = n // 2
    raw_w = cli_w = 0.0
    api.calls.clear()
    for i, (lo, hi) in enumerate(((0, half), (half, n))):
        steps = [("raw", raw_write, (http, t_raw.id, rows(n, "R")[lo:hi]), {}),
                 ("client", t_cli.create, (rows(n, "C")[lo:hi],), {"key": "编号"})]
        for side, fn, a, kw in steps if i == 0 else steps[::-1]:  # who goes first swaps
            took = timed(fn, *a, **kw)[1]
            if side == "raw":
                raw_w += took
            else:
                cli_w += took
    write_calls = api.total_calls

    # Reads: alternate to even out caches and noise; keep the best of each.
    raw_r, cli_r, read_calls = math.inf, math.inf, 0
    for _ in range(args.rounds):
        got, took = timed(raw_pages, http, t_cli.id)
        assert got == n
        raw_r = min(raw_r, took)
        api.calls.clear()
        got, took = timed(t_cli.all)
        assert len(got) == n
        cli_r = min(cli_r, took)
        read_calls = api.total_calls

    print(f"rows: {n}")
    print(f"write  raw {n / raw_w:8.0f} rows/s   client {n / cli_w:8.0f} rows/s   ratio {raw_w / cli_w:.2f}   client calls {write_calls} (ceil(N/100) = {math.ceil(n / 100)})")
    print(f"read   raw {n / raw_r:8.0f} rows/s   client {n / cli_r:8.0f} rows/s   ratio {raw_r / cli_r:.2f}   client calls {read_calls} (ceil(N/1000) = {math.ceil(n / 1000)})")
    api.request("DELETE", f"/api/v2/meta/bases/{base.id}")
    linked(cfg, http, n // 4)


def linked(cfg, http: httpx.Client, n: int) -> None:
    """A table with two links (活动: 负责人 → 员工, 承办部门 → 部门) through the Store: keys
    written with their links in the same batches, keys read back from the lookups."""
    from actops.schema import load_schema
    from actops.schema.sync import apply
    from actops.store import Store

    prefix = f"bench-links-{uuid.uuid4().hex[:6]}-"
    api = Api(cfg.url, cfg.token)
    apply(api, load_schema(), prefix=prefix, only={"departments", "employees", "activities"}, log=lambda s: None)
    store = Store(api, prefix)
    store.table("departments").create([{"code": f"D{d:02d}", "name": f"部门{d}"} for d in range(10)])
    store.table("employees").create([{"code": f"E{i:04d}", "name": f"员工{i}", "department": f"D{i % 10:02d}",
                                      "email": f"e{i}@bench.test", "active": True} for i in range(200)])
    acts = store.table("activities")
    data = [{"code": f"A{i:06d}", "name": f"活动{i}", "type": "培训", "stage": "策划", "owner": f"E{i % 200:04d}",
             "department": f"D{i % 10:02d}", "start_date": "2026-12-01", "end_date": "2026-12-02"} for i in range(n)]
    api.calls.clear()
    _, w = timed(acts.create, data)
    write_calls = dict(api.calls)
    raw_r = math.inf
    for _ in range(3):
        raw_r = min(raw_r, timed(raw_pages, http, acts.table.id)[1])
    cli_r, read_calls = math.inf, 0
    for _ in range(3):
        fresh = Store(Api(cfg.url, cfg.token), prefix)
        (recs, issues), took = timed(fresh.table("activities").read)
        assert len(recs) == n and not issues and recs[7].owner == "E0007"
        cli_r, read_calls = min(cli_r, took), fresh.api.total_calls
    print(f"\nlinks: {n} 活动 rows with two links (负责人 → 员工, 承办部门 → 部门), through the Store")
    print(f"write  {n / w:8.0f} rows/s   calls {write_calls} (ceil(N/100) = {math.ceil(n / 100)} inserts "
          f"+ 2 key reads of the linked tables)")
    print(f"read   raw {n / raw_r:8.0f} rows/s   store {n / cli_r:8.0f} rows/s   ratio {raw_r / cli_r:.2f}   "
          f"store calls {read_calls} (ceil(N/1000) = {math.ceil(n / 1000)} pages + meta)")
    base = api.base_by_title(f"{prefix}活动运营")
    api.request("DELETE", f"/api/v2/meta/bases/{base.id}")


if __name__ == "__main__":
    main()
