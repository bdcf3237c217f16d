"""Test fixtures: one real NocoDB per test session, a fresh base (title prefix) per module."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from actops.nocodb import Api
from actops_dev.catcher import free_port

REQ_PATTERN = r"^[A-Z]{3}-\d+$"
TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(items):
    import re

    for item in items:
        for m in item.iter_markers("req"):
            for rid in m.args:
                if not re.match(REQ_PATTERN, rid):
                    raise pytest.UsageError(f"{item.nodeid}: bad requirement id {rid!r}")
        where = Path(str(item.fspath)).resolve().relative_to(TESTS).parts[0]  # unit, integration, browser
        if where in ("integration", "browser"):
            item.add_marker(pytest.mark.integration)
        if where == "browser":  # a real browser on the real stack
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _row_copies(tmp_path_factory):
    """Jobs' local row copies (kernel.row_cache) go to the session's folder, never the user's."""
    old = os.environ.get("ACTOPS_CACHE_DIR")
    os.environ["ACTOPS_CACHE_DIR"] = str(tmp_path_factory.mktemp("rows"))
    yield
    if old is None:
        os.environ.pop("ACTOPS_CACHE_DIR", None)
    else:
        os.environ["ACTOPS_CACHE_DIR"] = old


def _test_db() -> str:
    """The database of the private test NocoDB: ``ACTOPS_TEST_DB`` = sqlite (default) or pg."""
    return os.environ.get("ACTOPS_TEST_DB") or "sqlite"


@pytest.fixture(scope="session")
def _nocodb_server(tmp_path_factory):
    """URL, token and the LocalStack (None when ACTOPS_TEST_NOCODB_URL/TOKEN name a NocoDB).

    With ACTOPS_TEST_DB=pg the private NocoDB keeps everything in a private PostgreSQL cluster.
    """
    url, token = os.environ.get("ACTOPS_TEST_NOCODB_URL"), os.environ.get("ACTOPS_TEST_NOCODB_TOKEN")
    if url and token:
        yield url, token, None
        return
    from actops_dev.stack import LocalStack

    data = Path(tmp_path_factory.mktemp("nocodb"))
    stack = LocalStack(data_dir=data, port=free_port(), env_path=data / ".env", db=_test_db())
    try:
        url, token = stack.up(log=lambda s: None)
        yield url, token, stack
    finally:
        stack.stop()
        if stack.pg is not None:
            stack.pg.remove()  # with its directory in the temp dir, when it has one


@pytest.fixture(scope="session")
def nocodb(_nocodb_server) -> tuple[str, str]:
    """URL and token of a NocoDB for tests: ACTOPS_TEST_NOCODB_URL/TOKEN, or a private local one."""
    return _nocodb_server[0], _nocodb_server[1]


@pytest.fixture(scope="session")
def nocodb_db(_nocodb_server) -> str | None:
    """The private test NocoDB's database, "sqlite" or "pg"; None for an external NocoDB."""
    stack = _nocodb_server[2]
    return stack.db if stack is not None else None


@pytest.fixture(scope="session")
def nocodb_login(_nocodb_server) -> tuple[str, str]:
    """E-mail and password of that NocoDB's super admin, to sign in with a browser.

    For a NocoDB named by ACTOPS_TEST_NOCODB_URL, set ACTOPS_TEST_NOCODB_EMAIL and _PASSWORD.
    """
    stack = _nocodb_server[2]
    if stack is None:
        email, password = os.environ.get("ACTOPS_TEST_NOCODB_EMAIL"), os.environ.get("ACTOPS_TEST_NOCODB_PASSWORD")
        if not (email and password):
            # Only for an external NocoDB (ACTOPS_TEST_NOCODB_URL); `make test` starts its own and
            # always knows the admin's password, so this never skips in CI.
            if os.environ.get("CI"):  # in CI a skipped browser test would hide a broken sign-in
                pytest.fail("ACTOPS_TEST_NOCODB_URL is set in CI without ACTOPS_TEST_NOCODB_EMAIL/_PASSWORD")
            pytest.skip("signing in needs ACTOPS_TEST_NOCODB_EMAIL and ACTOPS_TEST_NOCODB_PASSWORD for that NocoDB")
        return email, password
    from actops_dev.stack import ADMIN_EMAIL

    return ADMIN_EMAIL, stack._password()  # the stack's own admin password file


@pytest.fixture(scope="session")
def api(nocodb) -> Api:
    url, token = nocodb
    with Api(url, token) as a:
        yield a


@pytest.fixture(scope="module")
def prefix(request) -> str:
    return f"t{uuid.uuid4().hex[:6]}-{request.module.__name__.rsplit('.', 1)[-1][:20]}-"


@pytest.fixture(scope="module")
def make_store(api, prefix):
    """Apply the given tables of the schema under a fresh base prefix and bind a Store."""
    from actops.schema import load_schema
    from actops.schema.sync import apply
    from actops.store import Store

    def make(tables: set[str] | None = None, suffix: str = "") -> Store:
        specs = load_schema()
        apply(api, specs, prefix=prefix + suffix, only=tables, log=lambda s: None)
        return Store(api, prefix + suffix, specs)

    return make
