"""One exception base for actops; NocoDB errors say whether a retry can help.

Modelled on httpx's tree: callers catch ``ActopsError`` for "anything of ours",
``TransientError`` for "try again later", ``TerminalError`` for "fix something first".
Every message names what it can of table, row and field, and what to do.
"""

from __future__ import annotations


class ActopsError(Exception):
    """Base of every error actops raises on purpose."""


class ConfigError(ActopsError):
    """Missing or wrong configuration (environment, .env, Settings rows)."""


class NocoDBError(ActopsError):
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        table: str | None = None,
        row: int | str | None = None,
        field: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.status = status
        self.table = table
        self.row = row
        self.field = field
        self.detail = detail
        where = ", ".join(
            f"{k} {v}" for k, v in (("table", table), ("row", row), ("field", field)) if v is not None
        )
        text = message
        if where:
            text += f" [{where}]"
        if detail:
            text += f": {detail}"
        super().__init__(text)


class TransientError(NocoDBError):
    """Worth retrying: the server was unreachable, overloaded or failed internally."""

    retryable = True


class ConnectError(TransientError):
    pass


class ServerError(TransientError):
    pass


class RateLimited(TransientError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class TerminalError(NocoDBError):
    """Retrying cannot help: the request or the configuration must change."""


class AuthError(TerminalError):
    pass


class NotFoundError(TerminalError):
    pass


class RequestError(TerminalError):
    """NocoDB refused the request (400/422): bad field, option, payload size…"""


class InsertUncertainError(TerminalError):
    """An insert failed in a way that may have committed; it was not retried blindly."""


class ChannelError(ActopsError):
    """A message was not delivered. ``retryable`` says whether the same message may go later.

    ``scope`` says what failed: ``"message"`` (this recipient: a malformed address, a
    rejected mailbox), or ``"channel"`` (every message on it: server down, wrong login).
    """

    retryable = False
    scope = "message"


class DeliveryRefused(ChannelError):
    """Terminal for this message: the address is malformed or the server rejected it."""


class ChannelUnavailable(ChannelError):
    """Transient: the server did not answer or failed; the message is tried again later."""

    retryable = True
    scope = "channel"


class ChannelMisconfigured(ChannelError):
    """The channel's settings are wrong (login, URL): kept pending until someone fixes them."""

    retryable = True
    scope = "channel"


class SchemaError(ActopsError):
    """The schema files in schema/ are inconsistent."""


class RecordValidationError(ActopsError):
    """Rows refused before writing; ``issues`` says table, row, field and why for each."""

    def __init__(self, issues: list) -> None:
        self.issues = list(issues)
        head = "; ".join(str(i) for i in self.issues[:5])
        more = f" (and {len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"{len(self.issues)} values refused before writing: {head}{more}")
