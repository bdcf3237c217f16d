"""Links in messages: signed personal links to 「我的待办」 (STF-5) and links to NocoDB rows.

A personal link carries a token that binds a 工号, a purpose (``todo``), an expiry and the
id of the key that signed it, with an HMAC-SHA256 over all of them (stdlib ``hmac``). The
secret comes from ``ACTOPS_LINK_SECRET`` (SEC-1: never from the repo); a key rotated out
can stay valid for a while in ``ACTOPS_LINK_SECRET_PREVIOUS``. Anything forged, expired,
malformed, signed by an unknown key or made for another purpose raises :class:`LinkError`,
whose ``status`` is the HTTP status to answer with (403, or 410 for an expired link).

A row link opens the row's expanded record in NocoDB 0.301.3:
``{NOCODB_PUBLIC_URL}/dashboard/#/{workspaceId}/{baseId}/{tableId}?rowId={Id}``. The
workspace id is the table meta's ``fk_workspace_id`` (CE has one too; ``nc`` there only
opens the grid, without the row).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops import config
from actops.errors import ConfigError

PURPOSE_TODO = "todo"
PURPOSE_APPROVE = "approve"  # bound to one approval step as well as the person (``ref``)
PURPOSE_SELF_EVAL = "self_eval"  # bound to one evaluation cycle as well as the person (``ref``)
DEFAULT_DAYS = 14
DEFAULT_PORT = 8090
MIN_SECRET_CHARS = 32
_VERSION = "v1"
_DOMAIN = b"actops-link-v1\x00"  # keys made for these links sign nothing else


class LinkError(Exception):
    """A link that must not open anything. ``reason``: malformed, forged, expired, purpose."""

    def __init__(self, reason: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Claims:
    code: str  # 工号
    purpose: str
    expires: datetime
    kid: str
    ref: str | None = None  # what the link is for besides the person (an approval step's code)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(secret: bytes) -> str:
    """A short public name for a secret (so a token says which key signed it)."""
    return hashlib.sha256(b"actops-kid\x00" + secret).hexdigest()[:8]


@dataclass(frozen=True)
class LinkSigner:
    secret: bytes
    previous: tuple[bytes, ...] = ()
    days: int = DEFAULT_DAYS

    def __post_init__(self) -> None:
        for s in (self.secret, *self.previous):
            if len(s) < MIN_SECRET_CHARS:
                raise ConfigError(
                    f"ACTOPS_LINK_SECRET is too short ({len(s)} characters, need {MIN_SECRET_CHARS}): "
                    "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        if self.days < 1:
            raise ConfigError(f"ACTOPS_LINK_DAYS must be a whole number of days ≥ 1, not {self.days}")

    @property
    def kid(self) -> str:
        return key_id(self.secret)

    def _mac(self, secret: bytes, payload: str) -> str:
        return _b64(hmac.new(secret, _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest())

    def sign(self, code: str, purpose: str, issued_at: datetime, days: int | None = None,
             ref: str | None = None) -> str:
        expires = int((issued_at + timedelta(days=days or self.days)).timestamp())
        claims: dict[str, Any] = {"k": self.kid, "p": purpose, "s": code, "x": expires}
        if ref is not None:
            claims["r"] = ref
        body = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        payload = f"{_VERSION}.{_b64(body.encode())}"
        return f"{payload}.{self._mac(self.secret, payload)}"

    def verify(self, token: str, purpose: str, now: datetime) -> Claims:
        """The claims of a token this service signed for ``purpose`` and that has not expired."""
        parts = (token or "").split(".")
        if len(parts) != 3 or parts[0] != _VERSION or len(token) > 1000:
            raise LinkError("malformed", "链接不完整或格式不对")
        payload = f"{parts[0]}.{parts[1]}"
        try:
            claims = json.loads(_unb64(parts[1]).decode())
            kid, code, purp, exp = claims["k"], claims["s"], claims["p"], claims["x"]
            ref = claims.get("r")
            if not (isinstance(kid, str) and isinstance(code, str) and isinstance(purp, str) and type(exp) is int
                    and (ref is None or isinstance(ref, str))):
                raise ValueError("types")
            _unb64(parts[2])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error):
            raise LinkError("malformed", "链接不完整或格式不对") from None
        keys = {key_id(s): s for s in (self.secret, *self.previous)}
        secret = keys.get(kid)
        # Compared in constant time; an unknown key id is treated as a forgery.
        if secret is None or not hmac.compare_digest(self._mac(secret, payload), parts[2]):
            raise LinkError("forged", "链接签名无效（可能被改动过，或签名密钥已更换）")
        if purp != purpose:
            raise LinkError("purpose", "此链接不能用于这个页面")
        expires = datetime.fromtimestamp(exp, tz=now.tzinfo)
        if now >= expires:
            raise LinkError("expired", f"链接已于 {expires:%Y-%m-%d %H:%M} 过期", status=410)
        return Claims(code=code, purpose=purp, expires=expires, kid=kid, ref=ref)


def signer_from_env(*, generate_local: bool = True) -> LinkSigner | None:
    """The signer from ``ACTOPS_LINK_SECRET`` (and ``…_PREVIOUS``, ``ACTOPS_LINK_DAYS``), or None.

    For the local stack started by ``actops up`` (``ACTOPS_MANAGED=1`` in ``.env``), a missing
    secret is generated once into the git-ignored ``.env``, so the demo's digests carry links.
    """
    secret = config.get("ACTOPS_LINK_SECRET")
    if not secret and generate_local and config.get("ACTOPS_MANAGED") == "1":
        secret = secrets.token_urlsafe(32)
        config.write_env_file({"ACTOPS_LINK_SECRET": secret})
    if not secret:
        return None
    previous = tuple(s.strip().encode() for s in (config.get("ACTOPS_LINK_SECRET_PREVIOUS") or "").split(",") if s.strip())
    days_text = config.get("ACTOPS_LINK_DAYS") or str(DEFAULT_DAYS)
    try:
        days = int(days_text)
    except ValueError:
        raise ConfigError(f"ACTOPS_LINK_DAYS must be a whole number of days, not {days_text!r}") from None
    return LinkSigner(secret.encode(), previous, days)


def public_url() -> str:
    """Where people reach `actops serve` (``ACTOPS_PUBLIC_URL``; default the local port)."""
    url = config.get("ACTOPS_PUBLIC_URL") or f"http://127.0.0.1:{config.get('ACTOPS_SERVE_PORT') or DEFAULT_PORT}"
    return url.rstrip("/")


@dataclass(frozen=True)
class TodoLinks:
    """Personal 「我的待办」 links, issued at one moment (data a pure ``plan`` can use)."""

    signer: LinkSigner
    base_url: str
    issued_at: datetime

    def url_for(self, code: str) -> str:
        return f"{self.base_url}/todo/{self.signer.sign(code, PURPOSE_TODO, self.issued_at)}"


@dataclass(frozen=True)
class DecisionLinks:
    """Links to act on one thing (STF-5), bound to it (``ref``) and the person: an approval
    step (``/approve/…``) or an evaluation cycle's self-evaluation (``/self/…``)."""

    signer: LinkSigner
    base_url: str
    issued_at: datetime
    purpose: str = PURPOSE_APPROVE
    path: str = "approve"

    def url_for(self, code: str, ref: str) -> str:
        return f"{self.base_url}/{self.path}/{self.signer.sign(code, self.purpose, self.issued_at, ref=ref)}"


def decision_links_from_env(issued_at: datetime, purpose: str = PURPOSE_APPROVE,
                            path: str = "approve") -> DecisionLinks | None:
    signer = signer_from_env()
    return DecisionLinks(signer, public_url(), issued_at, purpose, path) if signer else None


def todo_links_from_env(issued_at: datetime) -> TodoLinks | None:
    """None without ``ACTOPS_LINK_SECRET``: digests then carry no personal link (no error)."""
    signer = signer_from_env()
    return TodoLinks(signer, public_url(), issued_at) if signer else None


@dataclass(frozen=True)
class RowLinks:
    """NocoDB row URLs: ``tables`` maps our table name → (workspace id, base id, table id)."""

    base_url: str
    tables: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)

    def row(self, table: str, row_id: int | None) -> str | None:
        where = self.tables.get(table)
        if where is None or row_id is None:
            return None
        ws, base, tid = where
        return f"{self.base_url}/dashboard/#/{ws}/{base}/{tid}?rowId={int(row_id)}"

    def grid(self, table: str) -> str | None:
        where = self.tables.get(table)
        return f"{self.base_url}/dashboard/#/{where[0]}/{where[1]}/{where[2]}" if where else None


def row_links(store: Any, names: Iterable[str]) -> RowLinks:
    """Row links for ``names`` from the tables' meta: a meta the store has read already, else
    the workspace and base of another table of the same base it has read (they share them),
    else one read of the meta."""
    tables = {}
    known: dict[str, tuple[str, str]] = {}  # base (schema) → (workspace id, base id)
    for name, bound in store.bound_tables().items():
        meta = bound.table.cached_meta
        if meta:
            known[store.base_of(name)] = (meta.get("fk_workspace_id") or "nc", meta["base_id"])
    for name in names:
        t = store.table(name).table
        where = known.get(store.base_of(name)) if t.cached_meta is None else None
        if where is None:
            meta = t.meta()
            where = known[store.base_of(name)] = (meta.get("fk_workspace_id") or "nc", meta["base_id"])
        tables[name] = (*where, t.id)
    base = config.get("NOCODB_PUBLIC_URL") or store.api.url
    return RowLinks(str(base).rstrip("/"), tables)
