"""A company on the in-memory NocoDB for job tests: every base applied from schema/, a clock the
test moves, and the org most job tests start from."""

from __future__ import annotations

from datetime import datetime

from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

DEPARTMENTS = [{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"}, {"code": "D07", "name": "财务部"}]
# 总经理, a director heading 市场部, a specialist under them, and finance heading 财务部
PEOPLE = [
    {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理", "CEO"], "email": "e01@x.cn"},
    {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人", "总监"],
     "email": "e02@x.cn"},
    {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E02", "email": "e04@x.cn"},
    {"code": "E05", "name": "孙财务", "department": "D07", "manager": "E01", "roles": ["部门负责人", "财务"],
     "email": "e05@x.cn"},
]


def fake_store(clock: dict[str, datetime]) -> tuple[FakeApi, Store]:
    """Empty bases on a fake NocoDB whose time is ``clock["now"]``."""
    api = FakeApi(now=lambda: clock["now"])
    specs = load_schema()
    apply(api, specs, prefix="t-", log=lambda s: None)
    return api, Store(api, "t-", specs)


def small_company(store: Store) -> None:
    """:data:`DEPARTMENTS` and :data:`PEOPLE`, with the heads set."""
    store.table("departments").create(DEPARTMENTS)
    store.table("employees").create(PEOPLE)
    store.table("departments").update([{"Id": 1, "head": "E01"}, {"Id": 2, "head": "E02"}, {"Id": 3, "head": "E05"}])
