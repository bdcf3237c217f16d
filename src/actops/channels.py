"""Where messages go: e-mail over SMTP (apprise) and the WeCom group bot (markdown).

Configuration comes from the environment (or .env), read when a channel is built, never
at import (SEC-1): SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS,
WECOM_WEBHOOK_URL.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlencode

import httpx

from actops import config
from actops.errors import ActopsError
from actops.kernel.contradictions import valid_wecom_id


class ChannelError(ActopsError):
    """A message could not be delivered; the outbox keeps it pending with this text."""


class Channel(Protocol):
    name: str

    def send(self, address: str, subject: str, html: str, markdown: str) -> None: ...


@dataclass
class EmailChannel:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "actops@localhost"
    starttls: bool = False
    name: str = "email"

    @classmethod
    def from_env(cls) -> EmailChannel | None:
        host = config.get("SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or 25),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            sender=config.get("SMTP_FROM") or "actops@localhost",
            starttls=(config.get("SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
        )

    def _url(self, to: str) -> str:
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@" if self.user else ""
        params = {"from": self.sender, "to": to, "mode": "starttls" if self.starttls else "insecure",
                  "format": "html"}
        if not self.user:
            params["user"] = ""
        return f"mailto://{auth}{self.host}:{self.port}?{urlencode(params)}"

    def send(self, address: str, subject: str, html: str, markdown: str) -> None:
        import apprise

        ap = apprise.Apprise()
        if not ap.add(self._url(address)):
            raise ChannelError(f"e-mail address or SMTP settings not usable: {address}")
        with apprise.LogCapture(level=logging.WARNING) as log:
            ok = ap.notify(title=subject, body=html, body_format=apprise.NotifyFormat.HTML)
            detail = log.getvalue().strip().splitlines()
        if not ok:
            reason = detail[-1] if detail else "unknown error"
            raise ChannelError(f"SMTP {self.host}:{self.port} did not take the mail for {address}: {reason}")


@dataclass
class WeComChannel:
    """The group bot's documented JSON, posted straight to WECOM_WEBHOOK_URL.

    apprise's wecombot plugin pins Tencent's host, so it cannot reach a company proxy or a
    test receiver; the payload is three fields, so we send it ourselves.
    """

    url: str
    name: str = "wecom"
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> WeComChannel | None:
        url = config.get("WECOM_WEBHOOK_URL")
        return cls(url) if url else None

    def send(self, address: str, subject: str, html: str, markdown: str) -> None:
        # Only a plausible user id is mentioned: the id comes from a grid cell staff typed,
        # and "all"/"@all" would mention the whole group (reported by `actops check`).
        content = f"{markdown}\n<@{address}>" if valid_wecom_id(address) else markdown
        try:
            resp = httpx.post(self.url, json={"msgtype": "markdown", "markdown": {"content": content}},
                              timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ChannelError(f"WeCom webhook unreachable: {type(exc).__name__}") from exc
        body = {}
        with contextlib.suppress(ValueError):
            body = resp.json()
        if not isinstance(body, dict):  # a proxy may answer with a bare string or list
            body = {}
        if resp.status_code >= 400 or body.get("errcode", 0) != 0:
            raise ChannelError(f"WeCom webhook refused ({resp.status_code}): {body.get('errmsg') or resp.text[:200]}")


def channels_from_env() -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if (email := EmailChannel.from_env()) is not None:
        out["email"] = email
    if (wecom := WeComChannel.from_env()) is not None:
        out["wecom"] = wecom
    return out
