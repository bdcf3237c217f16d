"""POST /hooks/<rule>: the secret check, 202 at once, and the coalescing waker (SEC-2)."""

from __future__ import annotations

import logging
import threading
import time
import warnings

import pytest

with warnings.catch_warnings():  # starlette 1.10 would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from actops.automations.hooks import HEADER
from actops.automations.rules import Condition, Rule
from actops.kernel.links import LinkSigner
from actops.web.app import create_app
from actops.web.hooks import HookEndpoint, Waker, secret_matches

pytestmark = pytest.mark.req("SEC-2")
SECRET = "unit-webhook-secret-0123456789abcdef"
RULES = [Rule("intake-reports", "reports", ("insert",), "intake", Condition("code", "blank", title="报告编号")),
         Rule("approvals-steps", "approval_steps", ("update",), "approvals")]
INSERT = {"type": "records.after.insert", "id": "e1", "version": "v3",
          "data": {"table_id": "m1", "table_name": "工作报告", "rows": [{"Id": 7, "报告编号": None}]}}


class Recorder:
    """A job runner that records each run and can be held inside a run."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, job: str) -> None:
        self.runs.append(job)
        self.entered.set()
        assert self.release.wait(10)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def endpoint(recorder):
    ep = HookEndpoint(RULES, SECRET, recorder, jobs=["intake", "escalations"])
    yield ep
    recorder.release.set()
    ep.close(5)


@pytest.fixture
def client(endpoint):
    app = create_app(lambda: None, LinkSigner(b"unit-link-secret-" * 3), hooks=endpoint)
    with TestClient(app) as c:
        yield c


def post(client, rule, secret=SECRET, body=INSERT):
    headers = {} if secret is None else {HEADER: secret}
    return client.post(f"/hooks/{rule}", json=body, headers=headers)


def test_secret_comparison():
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(SECRET[:-1], SECRET) and not secret_matches(SECRET + "x", SECRET)
    assert not secret_matches(None, SECRET) and not secret_matches("", SECRET) and not secret_matches(SECRET, None)


@pytest.mark.parametrize("given", [None, "", "wrong-secret", SECRET.upper(), SECRET + " "])
def test_without_the_right_secret_the_answer_is_401_and_a_log_line_without_any_secret(client, endpoint, recorder,
                                                                                      caplog, given):
    with caplog.at_level(logging.INFO, logger="actops.web.hooks"):
        r = post(client, "intake-reports", given)
        r_unknown = post(client, "no-such-rule", given)  # the secret is checked before the rule
    assert r.status_code == r_unknown.status_code == 401
    lines = [rec.getMessage() for rec in caplog.records]
    assert len(lines) == 2 and all("refused POST /hooks/" in line for line in lines)
    assert "missing" in lines[0] if given is None else "wrong" in lines[0]
    assert not any(SECRET in line or (given and given in line) for line in lines)
    assert endpoint.wakers["intake"].idle(5) and recorder.runs == []


def test_with_the_secret_an_unknown_rule_is_404_and_other_methods_are_refused(client, recorder):
    assert post(client, "no-such-rule").status_code == 404
    assert post(client, "approvals-steps").status_code == 404  # its job is not registered
    assert client.get("/hooks/intake-reports", headers={HEADER: SECRET}).status_code == 405
    assert recorder.runs == []


def test_a_hook_is_answered_202_at_once_and_the_job_runs_in_the_background(client, endpoint, recorder):
    recorder.release.clear()  # the job takes "forever"
    started = time.monotonic()
    r = post(client, "intake-reports")
    assert r.status_code == 202 and r.json() == {"rule": "intake-reports", "job": "intake", "woken": "started"}
    assert time.monotonic() - started < 2
    assert recorder.entered.wait(5) and recorder.runs == ["intake"]
    recorder.release.set()
    assert endpoint.wakers["intake"].idle(5) and recorder.runs == ["intake"]


def test_a_row_that_already_has_its_key_wakes_nothing(client, endpoint, recorder):
    keyed = {**INSERT, "data": {**INSERT["data"], "rows": [{"Id": 7, "报告编号": "RPT-20261123-0001"}]}}
    r = post(client, "intake-reports", body=keyed)
    assert r.status_code == 202 and r.json()["woken"] is False
    assert post(client, "intake-reports", body=None).json()["woken"] == "started"  # nothing to judge: woken
    assert endpoint.wakers["intake"].idle(5) and recorder.runs == ["intake"]


def test_a_burst_of_hooks_during_a_run_makes_exactly_one_more_run(client, endpoint, recorder):
    recorder.release.clear()
    assert post(client, "intake-reports").json()["woken"] == "started"
    assert recorder.entered.wait(5)
    said = [post(client, "intake-reports").json()["woken"] for _ in range(20)]
    assert said == ["queued"] + ["already queued"] * 19
    recorder.release.set()
    assert endpoint.wakers["intake"].idle(10)
    assert recorder.runs == ["intake", "intake"]


def test_a_burst_from_many_threads_within_one_run_runs_the_job_at_most_twice():
    runs = []
    waker = Waker("intake", lambda: runs.append(1) or time.sleep(0.5))  # a run outlasts the burst
    threads = [threading.Thread(target=waker.wake) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert waker.idle(10) and 1 <= len(runs) <= 2
    waker.close()


def test_a_failed_run_is_logged_and_the_next_wake_runs_again(caplog):
    runs = []

    def run():
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("NocoDB went away")

    waker = Waker("intake", run)
    with caplog.at_level(logging.ERROR, logger="actops.web.hooks"):
        waker.wake()
        assert waker.idle(5)
    assert "webhook run of intake failed" in caplog.text
    waker.wake()
    assert waker.idle(5) and len(runs) == 2
    waker.close()


def test_a_run_that_yielded_to_another_runs_lease_is_tried_again_a_few_times():
    runs = []
    done = threading.Event()

    def run():
        runs.append(time.monotonic())
        if len(runs) == 3:
            done.set()
        return len(runs) < 3  # the scheduled run holds the lease twice, then it is free

    waker = Waker("intake", run, busy_delay=0.05, busy_tries=5)
    waker.wake()
    assert done.wait(5)
    time.sleep(0.2)
    assert len(runs) == 3  # stopped once a run got through
    waker.close()

    always = []
    stubborn = Waker("intake", lambda: always.append(1) or True, busy_delay=0.01, busy_tries=3)
    stubborn.wake()
    time.sleep(0.5)
    assert len(always) == 4  # the first run and three more tries, then the poll takes over
    stubborn.close()


def test_closing_waits_for_the_run_under_way_and_refuses_new_wakes(recorder):
    recorder.release.clear()
    waker = Waker("intake", lambda: recorder("intake"))
    waker.wake()
    assert recorder.entered.wait(5)
    threading.Timer(0.2, recorder.release.set).start()
    started = time.monotonic()
    waker.close(5)
    assert 0.1 < time.monotonic() - started < 5
    assert waker.wake() == "closed" and recorder.runs == ["intake"]
