"""The client over a mock transport: paging cost, batching, retries, error classes."""

from __future__ import annotations

import json

import httpx
import pytest

from actops import errors
from actops.nocodb import Api, RetryPolicy, where_and


class FakeNoco:
    """Just enough of NocoDB's records API to count and misbehave on purpose."""

    def __init__(self, n: int = 0):
        self.rows = [{"Id": i + 1, "Name": f"r{i + 1}"} for i in range(n)]
        self.fail_next: list[int] = []  # status codes to answer before behaving
        self.commit_then_fail = False
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next:
            code = self.fail_next.pop(0)
            headers = {"Retry-After": "7"} if code == 429 else {}
            return httpx.Response(code, json={"msg": "boom"}, headers=headers)
        if request.method == "GET":
            where = request.url.params.get("where", "")
            last = int(where.split("(Id,gt,")[1].split(")")[0])
            limit = int(request.url.params["limit"])
            page = [r for r in self.rows if r["Id"] > last][:limit]
            return httpx.Response(200, json={"list": page, "pageInfo": {}})
        if request.method == "POST":
            body = json.loads(request.content)
            new = []
            for row in body:
                rid = len(self.rows) + 1
                self.rows.append({"Id": rid, **row})
                new.append({"Id": rid})
            if self.commit_then_fail:
                self.commit_then_fail = False
                return httpx.Response(502, json={"msg": "gateway"})
            return httpx.Response(200, json=new)
        if request.method == "PATCH":
            return httpx.Response(200, json=[{"Id": r["Id"]} for r in json.loads(request.content)])
        if request.method == "DELETE":
            gone = {r["Id"] for r in json.loads(request.content)}
            self.rows = [r for r in self.rows if r["Id"] not in gone]
            return httpx.Response(200, json=[{"Id": i} for i in sorted(gone)])
        return httpx.Response(404)


def make(n=0, **kw):
    fake = FakeNoco(n)
    sleeps: list[float] = []
    api = Api("http://noco.test", "tok", transport=httpx.MockTransport(fake), sleep=sleeps.append,
              retry=RetryPolicy(attempts=4, base_delay=0.01), **kw)
    return api, fake, sleeps


@pytest.mark.parametrize("n,calls", [(0, 1), (999, 1), (1000, 2), (2500, 3)])
def test_paged_read_costs_one_call_per_page(n, calls):
    api, fake, _ = make(n)
    rows = api.base("b").table("t").all()
    assert [r["Id"] for r in rows] == list(range(1, n + 1))
    assert api.calls["GET"] == calls


def test_watch_sees_every_request_sent_the_pages_a_bench_replays():
    api, fake, _ = make(2500)
    seen: list[str] = []
    api.watch(lambda req: seen.append(f"{req.method} {req.url.params['where']}"))
    api.base("b").table("t").all()
    assert seen == ["GET (Id,gt,0)", "GET (Id,gt,1000)", "GET (Id,gt,2000)"] and api.calls["GET"] == 3


def test_batch_writes_are_chunked_by_100():
    api, fake, _ = make()
    ids = api.base("b").table("t").create([{"Name": f"x{i}"} for i in range(250)], key="Name")
    assert len(ids) == 250 and api.calls["POST"] == 3
    assert all(len(json.loads(r.content)) <= 100 for r in fake.requests)


def test_updates_and_deletes_are_chunked_by_100():
    api, fake, _ = make(250)
    t = api.base("b").table("t")
    assert t.update([{"Id": i, "Name": "x"} for i in range(1, 251)]) == 250
    assert t.delete(range(1, 201)) == 200
    assert api.calls["PATCH"] == 3 and api.calls["DELETE"] == 2
    assert [r["Id"] for r in fake.rows] == list(range(201, 251))


def test_reads_retry_5xx_and_honour_retry_after():
    api, fake, sleeps = make(3)
    fake.fail_next = [503, 429]
    assert len(api.base("b").table("t").all()) == 3
    assert api.calls["GET"] == 3
    assert sleeps[1] == 7.0  # Retry-After honoured


def test_reads_give_up_with_a_transient_error():
    api, fake, _ = make(3)
    fake.fail_next = [500] * 10
    with pytest.raises(errors.ServerError) as exc:
        api.base("b").table("t").all()
    assert exc.value.retryable and api.calls["GET"] == 4


def test_insert_is_never_retried_blindly_without_a_key():
    api, fake, _ = make()
    fake.commit_then_fail = True
    with pytest.raises(errors.InsertUncertainError):
        api.base("b").table("t").create([{"Name": "a"}])
    assert len(fake.rows) == 1 and api.calls["POST"] == 1


def test_insert_that_committed_then_failed_is_rechecked_by_key_not_duplicated():
    api, fake, _ = make()
    fake.commit_then_fail = True
    ids = api.base("b").table("t").create([{"Name": "a"}, {"Name": "b"}], key="Name")
    assert ids == [1, 2]
    assert [r["Name"] for r in fake.rows] == ["a", "b"]


def test_insert_resends_only_missing_rows_after_a_transient_failure():
    api, fake, _ = make()
    fake.fail_next = [503]  # failed before committing anything
    ids = api.base("b").table("t").create([{"Name": "a"}], key="Name")
    assert ids == [1] and len(fake.rows) == 1


def test_wrong_token_is_one_clear_terminal_error():
    api, fake, _ = make()
    fake.fail_next = [401]
    with pytest.raises(errors.AuthError) as exc:
        api.base("b").table("t").all()
    assert not exc.value.retryable
    assert "NOCODB_TOKEN" in str(exc.value)


def test_unreachable_server_is_a_connect_error():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    api = Api("http://noco.test", "t", transport=httpx.MockTransport(refuse), sleep=lambda s: None)
    with pytest.raises(errors.ConnectError) as exc:
        api.bases()
    assert "unreachable" in str(exc.value) and api.calls["GET"] == 5


def test_where_and_keeps_or_groups_local():
    assert where_and("(Id,gt,5)", None) == "(Id,gt,5)"
    assert where_and("(Id,gt,5)", "(a,eq,1)~or(b,eq,2)") == "(Id,gt,5)~and((a,eq,1)~or(b,eq,2))"


def test_short_table_name_survives_an_underscore_in_nocodbs_random_prefix():
    from actops.nocodb._base import short_name

    assert short_name("nc_jc43___employees") == "employees"
    assert short_name("nc_if5____calendar") == "calendar"  # seen: the prefix was "if5_"
    assert short_name("approval_steps") == "approval_steps"  # an external source has no prefix
