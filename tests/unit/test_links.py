"""Signed personal links (STF-5, SEC-1) and links to NocoDB rows."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest

from actops.errors import ConfigError
from actops.kernel.calendar import TZ
from actops.kernel.links import (
    PURPOSE_TODO,
    LinkError,
    LinkSigner,
    RowLinks,
    TodoLinks,
    key_id,
    public_url,
    signer_from_env,
    todo_links_from_env,
)

SECRET = b"s" * 40
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean configuration: no link variables in the environment, an empty .env."""
    for name in ("ACTOPS_LINK_SECRET", "ACTOPS_LINK_SECRET_PREVIOUS", "ACTOPS_LINK_DAYS", "ACTOPS_MANAGED",
                 "ACTOPS_PUBLIC_URL", "ACTOPS_SERVE_PORT", "NOCODB_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACTOPS_ENV_FILE", str(tmp_path / ".env"))
    return monkeypatch


def tamper(token: str, **changes) -> str:
    v, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{v}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{sig}"


@pytest.mark.req("STF-5")
def test_a_token_round_trips_to_the_person_purpose_and_expiry():
    s = LinkSigner(SECRET)
    token = s.sign("E0042", PURPOSE_TODO, NOW)
    claims = s.verify(token, PURPOSE_TODO, NOW + timedelta(days=13, hours=23))
    assert claims.code == "E0042" and claims.purpose == "todo" and claims.kid == key_id(SECRET)
    assert claims.expires == NOW + timedelta(days=14)
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a URL path and in markdown


@pytest.mark.req("STF-5", "SEC-1")
def test_forged_tokens_are_refused():
    s = LinkSigner(SECRET)
    token = s.sign("E0042", PURPOSE_TODO, NOW)
    for forged in (
        tamper(token, s="E0001"),  # someone else's 工号 with the old signature
        tamper(token, x=int((NOW + timedelta(days=400)).timestamp())),  # a longer life
        LinkSigner(b"x" * 40).sign("E0042", PURPOSE_TODO, NOW),  # another secret
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a changed signature
    ):
        with pytest.raises(LinkError) as err:
            s.verify(forged, PURPOSE_TODO, NOW)
        assert err.value.status == 403 and err.value.reason == "forged"


@pytest.mark.req("STF-5")
def test_an_expired_token_says_so_with_410():
    s = LinkSigner(SECRET, days=14)
    token = s.sign("E0042", PURPOSE_TODO, NOW)
    with pytest.raises(LinkError) as err:
        s.verify(token, PURPOSE_TODO, NOW + timedelta(days=14))
    assert err.value.status == 410 and err.value.reason == "expired" and "过期" in str(err.value)


@pytest.mark.req("STF-5")
def test_a_token_for_another_purpose_opens_nothing():
    s = LinkSigner(SECRET)
    with pytest.raises(LinkError) as err:
        s.verify(s.sign("E0042", "self-eval", NOW), PURPOSE_TODO, NOW)
    assert err.value.status == 403 and err.value.reason == "purpose"


@pytest.mark.req("STF-5")
@pytest.mark.parametrize("token", ["", "abc", "v1.x", "v2.e30.c2ln", "v1.!!!.c2ln", "v1.e30.c2ln",
                                   "v1.bm90IGpzb24.c2ln", "v1." + "A" * 2000 + ".c2ln", "v1.e30.c2ln=="])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(LinkError) as err:
        LinkSigner(SECRET).verify(token, PURPOSE_TODO, NOW)
    assert err.value.status == 403 and err.value.reason == "malformed"


@pytest.mark.req("STF-5")
def test_a_rotated_key_keeps_old_links_only_while_listed_as_previous():
    old, new = b"o" * 40, b"n" * 40
    token = LinkSigner(old).sign("E0042", PURPOSE_TODO, NOW)
    assert LinkSigner(new, previous=(old,)).verify(token, PURPOSE_TODO, NOW).code == "E0042"
    with pytest.raises(LinkError):
        LinkSigner(new).verify(token, PURPOSE_TODO, NOW)


@pytest.mark.req("SEC-1")
def test_short_secrets_and_bad_days_are_refused_with_what_to_do():
    with pytest.raises(ConfigError, match="too short.*token_urlsafe"):
        LinkSigner(b"short")
    with pytest.raises(ConfigError, match="ACTOPS_LINK_DAYS"):
        LinkSigner(SECRET, days=0)


@pytest.mark.req("SEC-1", "STF-5")
def test_configuration_from_the_environment(env, tmp_path):
    assert signer_from_env() is None and todo_links_from_env(NOW) is None  # no secret: no links
    env.setenv("ACTOPS_LINK_SECRET", "k" * 40)
    env.setenv("ACTOPS_LINK_DAYS", "3")
    env.setenv("ACTOPS_PUBLIC_URL", "https://ops.example.com/actops/")
    links = todo_links_from_env(NOW)
    url = links.url_for("E0042")
    assert url.startswith("https://ops.example.com/actops/todo/v1.")
    assert links.signer.verify(url.rsplit("/", 1)[1], PURPOSE_TODO, NOW).expires == NOW + timedelta(days=3)
    env.setenv("ACTOPS_LINK_DAYS", "two")
    with pytest.raises(ConfigError, match="ACTOPS_LINK_DAYS"):
        signer_from_env()
    env.delenv("ACTOPS_PUBLIC_URL")
    env.setenv("ACTOPS_SERVE_PORT", "9000")
    assert public_url() == "http://127.0.0.1:9000"


@pytest.mark.req("SEC-1")
def test_the_local_stack_gets_a_generated_secret_in_env_once(env, tmp_path):
    (tmp_path / ".env").write_text("ACTOPS_MANAGED=1\n", encoding="utf-8")
    first = signer_from_env()
    assert first is not None and "ACTOPS_LINK_SECRET=" in (tmp_path / ".env").read_text()
    assert signer_from_env().secret == first.secret  # kept, not regenerated
    (tmp_path / ".env").write_text("", encoding="utf-8")
    assert signer_from_env() is None  # an existing NocoDB: nothing is generated


def test_row_links_open_the_expanded_record():
    links = RowLinks("https://noco.example.com", {"approval_steps": ("w1", "p1", "m1")})
    assert links.row("approval_steps", 7) == "https://noco.example.com/dashboard/#/w1/p1/m1?rowId=7"
    assert links.row("reports", 7) is None and links.row("approval_steps", None) is None


def test_todo_links_are_stable_for_one_moment():
    links = TodoLinks(LinkSigner(SECRET), "http://127.0.0.1:8090", NOW)
    assert links.url_for("E1") == links.url_for("E1") != links.url_for("E2")
