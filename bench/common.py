"""What the benchmarks share: a bench base and its removal, the raw-API ceiling (keyset pages
and batches of 100 with plain httpx), timing and peak memory.

Imported by the scripts beside it (``bench/`` is on ``sys.path`` when one of them runs).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import httpx

from actops import config
from actops.nocodb import Api, where_and
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import BoundTable, Store


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def peak_rss_mb() -> float:
    """This process's peak resident set so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def http_client(cfg: config.NocoConfig | None = None) -> httpx.Client:
    cfg = cfg or config.nocodb()
    return httpx.Client(base_url=cfg.url, headers={"xc-token": cfg.token}, timeout=300)


def bench_store(tag: str, only: Iterable[str] | None = None) -> Store:
    """Fresh bases (prefix ``bench-<tag>-<random>-``) with the schema's tables (``only`` those)."""
    cfg = config.nocodb()
    api = Api(cfg.url, cfg.token, timeout=300)
    prefix = f"bench-{tag}-{uuid.uuid4().hex[:6]}-"
    apply(api, load_schema(), prefix=prefix, only=set(only) if only is not None else None, log=lambda s: None)
    return Store(api, prefix)


def open_store(prefix: str) -> Store:
    """A store with its own client (call counter at zero) on the bases made with ``prefix``."""
    cfg = config.nocodb()
    return Store(Api(cfg.url, cfg.token, timeout=300), prefix)


def fresh(store: Store) -> Store:
    return open_store(store.prefix)


def in_child(fn: Callable[..., Any], *args: Any) -> float:
    """Run ``fn(*args)`` in a forked process (seeding: its memory is not the job's peak RSS);
    seconds taken. Exits when the child fails."""
    proc = multiprocessing.get_context("fork").Process(target=fn, args=args)
    t0 = time.perf_counter()
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"{fn.__name__} failed in its process (exit code {proc.exitcode})")
    return time.perf_counter() - t0


def preload() -> None:
    """Import what a job run imports lazily (Prefect's runtime, for the run id: about 5 s) before
    the children fork, as a flow run has it imported: the children time the job, not imports."""
    import prefect.runtime  # noqa: F401


def child_result(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` in a forked process, so its peak RSS is its own: (what it returned, which
    must pickle; its process's peak RSS in MB). Exits when the child fails."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def target() -> None:
        out = fn(*args)
        send.send((out, peak_rss_mb()))

    proc = ctx.Process(target=target)
    proc.start()
    send.close()  # ours: without it a child that dies leaves recv() waiting forever
    try:
        got = recv.recv()
    except EOFError:
        got = None
    proc.join()
    if proc.exitcode != 0 or got is None:
        raise SystemExit(f"{fn.__name__} failed in its process (exit code {proc.exitcode})")
    return got


def drop_bases(store: Store) -> None:
    """Delete every base the bench made (their titles start with its prefix)."""
    for b in store.api.bases():
        if b["title"].startswith(store.prefix):
            store.api.request("DELETE", f"/api/v2/meta/bases/{b['id']}")


def store_columns(bound: BoundTable) -> list[str]:
    """The columns the store asks for when it reads a whole table: every field, a link as its
    foreign key. Never the link columns themselves: NocoDB 0.301 computes those row by row
    (1,000 rows with three links: 15 s with them, 0.4 s without, measured here)."""
    return ["Id", *bound._request_titles(None)]


def raw_pages(http: httpx.Client, tid: str, fields: Sequence[str] | None = None, where: str | None = None) -> int:
    """Read a whole table (or the rows ``where`` picks) in keyset pages of 1,000; the number of rows."""
    last, total = 0, 0
    while True:
        params: dict[str, Any] = {"limit": 1000, "sort": "Id", "where": where_and(f"(Id,gt,{last})", where)}
        if fields is not None:
            params["fields"] = ",".join(fields)
        page = http.get(f"/api/v2/tables/{tid}/records", params=params).json()["list"]
        total += len(page)
        if len(page) < 1000:
            return total
        last = page[-1]["Id"]


def record_gets(store: Store) -> list[str]:
    """The URLs of every read of rows ``store`` makes from now on, for :func:`replay`."""
    gets: list[str] = []

    def record(req: httpx.Request) -> None:
        if req.method == "GET" and req.url.path.endswith("/records"):
            gets.append(str(req.url))

    store.api.watch(record)
    return gets


def replay(urls: Sequence[str]) -> tuple[int, float]:
    """The same GETs with plain httpx, nothing parsed beyond JSON: the API's ceiling for exactly
    the pages a job read. (rows returned, seconds)"""
    http, n = http_client(), 0
    t0 = time.perf_counter()
    for u in urls:
        n += len(http.get(u).json().get("list", []))
    return n, time.perf_counter() - t0


def raw_read(http: httpx.Client, table_ids: list[str],
             fields: Mapping[str, Sequence[str]] | None = None) -> float:
    """Seconds to read every table whole; ``fields`` (table id → titles) names the columns,
    otherwise NocoDB returns all of them, link columns included."""
    t0 = time.perf_counter()
    for tid in table_ids:
        raw_pages(http, tid, (fields or {}).get(tid))
    return time.perf_counter() - t0


def raw_ceiling(http: httpx.Client, store: Store, tables: Sequence[str], rounds: int = 2) -> float:
    """The best of ``rounds`` raw reads of ``tables`` whole with the store's columns (the first
    read after a load is slower: cold caches)."""
    ids = [store.table(t).table.id for t in tables]
    cols = {store.table(t).table.id: store_columns(store.table(t)) for t in tables}
    return min(raw_read(http, ids, cols) for _ in range(rounds))


def raw_write(http: httpx.Client, tid: str, data: list[dict]) -> None:
    for i in range(0, len(data), 100):
        http.post(f"/api/v2/tables/{tid}/records", json=data[i : i + 100]).raise_for_status()


def raw_patch(http: httpx.Client, tid: str, data: list[dict]) -> None:
    for i in range(0, len(data), 100):
        http.patch(f"/api/v2/tables/{tid}/records", json=data[i : i + 100]).raise_for_status()


def ts(d: date, hour: int) -> str:
    """A Beijing time on day ``d``, as the sample company writes datetimes."""
    return f"{d.isoformat()} {hour:02d}:00:00+08:00"


def pages(n: int) -> int:
    """Keyset pages a read of ``n`` rows costs (an exact multiple of 1,000 needs one more)."""
    return n // 1000 + 1


def batches(n: int) -> int:
    return -(-n // 100)


def measure(label: str, run: Callable[..., dict], *args: Any, replays: int = 2) -> tuple:
    """``run(*args)`` (a job run returning wall, calls, gets, status, made, updates, enqueued,
    issues, stats) in its own process, its row GETs replayed raw in another (best of ``replays``):
    one line printed, and the row for :func:`print_runs`."""
    out, rss = child_result(run, *args)
    rows_read, raw = min((child_result(replay, out["gets"])[0] for _ in range(replays)), key=lambda x: x[1])
    calls = sum(out["calls"].values())
    write = sum(batches(n) for n in (*out["made"].values(), *out["updates"].values())) + batches(out["enqueued"])
    print(f"\n{label}: {out['wall']:.1f}s, {calls} calls {out['calls']}, {len(out['gets'])} row GETs "
          f"({rows_read} rows), replayed raw in {raw:.1f}s; peak RSS {rss:.0f} MB\n  status {out['status']}, "
          f"made {out['made']}, updates {out['updates']}, enqueued {out['enqueued']}, issues {out['issues']}, "
          f"{out['stats']}; {write} write batches", flush=True)
    if out.get("by_table"):
        print(f"  row GETs by table: {out['by_table']}", flush=True)
    return (label, calls, len(out["gets"]), rows_read, write, out["wall"], out["wall"] / raw if raw else float("nan"),
            rss)


def print_runs(table: Sequence[tuple], width: int = 22) -> None:
    print(f"{'run':{width}} {'calls':>6} {'GETs':>5} {'rows':>8} {'batches':>8} {'time':>8} {'× raw':>6} {'RSS MB':>7}")
    for label, calls, gets, rows, write, wall, ratio, rss in table:
        print(f"{label:{width}} {calls:6} {gets:5} {rows:8} {write:8} {wall:7.1f}s {ratio:6.2f} {rss:7.0f}")
