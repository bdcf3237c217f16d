"""Where messages go: e-mail over SMTP and the WeCom group bot (markdown).

Configuration comes from the environment (or .env), read when a channel is built, never
at import (SEC-1): SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS,
SMTP_SSL, WECOM_WEBHOOK_URL.

Failures are sorted for the outbox (see :mod:`actops.errors`): a malformed address or a
mailbox the server rejects is :class:`DeliveryRefused` (not retried), a wrong login is
:class:`ChannelMisconfigured`, a server that does not answer is :class:`ChannelUnavailable`.
SMTP is spoken with the standard library so those cases can be told apart; each message
carries an ``X-Actops-Key`` header with its outbox key, so a receiver can count duplicates.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import httpx

from actops import config
from actops.errors import ChannelMisconfigured, ChannelUnavailable, DeliveryRefused
from actops.kernel.contradictions import valid_wecom_id
from actops.kernel.org import CHANNEL_EMAIL, CHANNEL_WECOM

EMAIL_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sends it."""

    key: str
    address: str
    subject: str
    html: str
    markdown: str
    images: tuple[tuple[str, bytes], ...] = ()  # (content id, PNG) shown in the HTML as ``cid:<id>``


class Channel(Protocol):
    name: str

    def send(self, msg: Outgoing) -> None: ...


def wecom_mention(address: str | None) -> str | None:
    """The id to @-mention, or None: only a plausible single user, never everyone ("all"),
    since the id comes from a grid cell staff typed (reported by the shared rules)."""
    a = (address or "").strip()
    return a if valid_wecom_id(a) else None


@dataclass
class EmailChannel:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "actops@localhost"
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0
    name: str = CHANNEL_EMAIL

    @classmethod
    def from_env(cls) -> EmailChannel | None:
        host = config.get("SMTP_HOST")
        if not host:
            return None
        yes = ("1", "true", "yes")
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or 25),
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            sender=config.get("SMTP_FROM") or "actops@localhost",
            starttls=(config.get("SMTP_STARTTLS") or "").lower() in yes,
            use_ssl=(config.get("SMTP_SSL") or "").lower() in yes,
        )

    def _message(self, msg: Outgoing) -> EmailMessage:
        m = EmailMessage()
        m["From"] = self.sender
        m["To"] = msg.address
        m["Subject"] = msg.subject
        m["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1] or "actops")
        m["X-Actops-Key"] = msg.key
        m.set_content(msg.markdown)
        m.add_alternative(msg.html, subtype="html")
        if msg.images:  # charts travel inside the mail: clients show them without loading anything
            html = m.get_payload()[1]
            for cid, png in msg.images:
                html.add_related(png, "image", "png", cid=f"<{cid}>", filename=f"{cid}.png")
        return m

    def send(self, msg: Outgoing) -> None:
        address = (msg.address or "").strip()
        if not EMAIL_RE.match(address) or not address.isascii():
            raise DeliveryRefused(f"邮箱地址格式不正确：{address!r}（只能含英文字母、数字和符号）；请在「员工」表中改正")
        where = f"{self.host}:{self.port}"
        try:
            cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            with cls(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(self._message(msg))
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryRefused(f"SMTP 服务器 {where} 不支持该地址 {address!r}（{exc}）") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelMisconfigured(
                f"SMTP 服务器 {where} 拒绝登录（{exc.smtp_code}）：请检查 SMTP_USER / SMTP_PASSWORD") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise DeliveryRefused(f"SMTP 服务器 {where} 拒收 {address}（{code} {_text(text)}）") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise ChannelMisconfigured(f"SMTP 服务器 {where} 拒绝发件人 {self.sender}（{exc.smtp_code}）：请检查 SMTP_FROM") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise DeliveryRefused(f"SMTP 服务器 {where} 拒收（{exc.smtp_code} {_text(exc.smtp_error)}）") from exc
            raise ChannelUnavailable(f"SMTP 服务器 {where} 暂时不可用（{exc.smtp_code} {_text(exc.smtp_error)}）") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, DNS
            raise ChannelUnavailable(f"无法连接 SMTP 服务器 {where}（{type(exc).__name__}: {exc}）") from exc


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw))[:200]


@dataclass
class WeComChannel:
    """The group bot's documented JSON, posted straight to WECOM_WEBHOOK_URL.

    A general notification library's WeCom plugin pins Tencent's host, so it cannot reach a
    company proxy or a test receiver; the payload is three fields, so we send it ourselves.
    """

    url: str
    name: str = CHANNEL_WECOM
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> WeComChannel | None:
        url = config.get("WECOM_WEBHOOK_URL")
        return cls(url) if url else None

    def send(self, msg: Outgoing) -> None:
        who = wecom_mention(msg.address)
        content = f"{msg.markdown}\n<@{who}>" if who else msg.markdown
        try:
            resp = httpx.post(self.url, json={"msgtype": "markdown", "markdown": {"content": content}},
                              headers={"X-Actops-Key": msg.key}, timeout=self.timeout)
        except (OSError, httpx.HTTPError) as exc:
            raise ChannelUnavailable(f"企业微信机器人地址无法连接（{type(exc).__name__}）") from exc
        body = {}
        with contextlib.suppress(ValueError):
            body = resp.json()
        if not isinstance(body, dict):  # a proxy may answer with a bare string or list
            body = {}
        errcode = body.get("errcode", 0)
        detail = body.get("errmsg") or resp.text[:200]
        if resp.status_code in (401, 403, 404) or errcode in (93000, 40008):  # bad key / URL
            raise ChannelMisconfigured(f"企业微信机器人地址无效（{resp.status_code} {detail}）：请检查 WECOM_WEBHOOK_URL")
        if resp.status_code >= 500 or resp.status_code == 429 or errcode == 45009:  # busy / rate limit
            raise ChannelUnavailable(f"企业微信暂时不可用（{resp.status_code} {detail}）")
        if resp.status_code >= 400 or errcode != 0:
            raise DeliveryRefused(f"企业微信拒收（{resp.status_code} {detail}）")


def channels_from_env() -> dict[str, Channel]:
    out: dict[str, Channel] = {}
    if (email := EmailChannel.from_env()) is not None:
        out[CHANNEL_EMAIL] = email
    if (wecom := WeComChannel.from_env()) is not None:
        out[CHANNEL_WECOM] = wecom
    return out
