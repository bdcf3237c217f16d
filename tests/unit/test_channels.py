"""Channels sort their failures so the outbox knows what to retry: against real SMTP peers.

aiosmtpd servers in this process play a mail server that wants a login, one that has no such
mailbox, and no server at all (a closed port).
"""

from __future__ import annotations

import pytest

from actops.errors import ChannelMisconfigured, ChannelUnavailable, DeliveryRefused
from actops.messaging.channels import EmailChannel, Outgoing
from actops_dev.catcher import MailCatcher, free_port

MSG = Outgoing("escalations:abc", "zhang@corp.test", "提醒", "<p>你好</p>", "你好")


@pytest.fixture
def catcher():
    c = MailCatcher().start()
    yield c
    c.stop()


@pytest.fixture
def login_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"actops" and auth_data.password == b"right"
        return AuthResult(success=ok, handled=False)

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,  # plain AUTH: loopback only
                     auth_required=True, auth_require_tls=False)
    ctl.start()
    yield port
    ctl.stop()


@pytest.mark.req("REL-1")
def test_a_delivered_mail_carries_its_outbox_key(catcher):
    EmailChannel("127.0.0.1", catcher.port).send(MSG)
    [m] = catcher.messages
    assert m["key"] == "escalations:abc" and m["to"] == ["zhang@corp.test"] and "你好" in m["html"]


@pytest.mark.req("REL-1")
def test_wrong_login_and_unreachable_server_say_different_things(login_server):
    with pytest.raises(ChannelMisconfigured) as wrong:
        EmailChannel("127.0.0.1", login_server, user="actops", password="wrong").send(MSG)
    with pytest.raises(ChannelUnavailable) as down:
        EmailChannel("127.0.0.1", free_port()).send(MSG)
    assert "拒绝登录" in str(wrong.value) and "SMTP_PASSWORD" in str(wrong.value)
    assert "无法连接" in str(down.value)
    assert wrong.value.retryable and down.value.retryable  # both may go once fixed or back
    EmailChannel("127.0.0.1", login_server, user="actops", password="right").send(MSG)  # the right one works


@pytest.mark.req("REL-1")
def test_a_rejected_mailbox_and_a_malformed_address_are_terminal(catcher):
    catcher.refuse.add("nobody@corp.test")
    with pytest.raises(DeliveryRefused) as refused:
        EmailChannel("127.0.0.1", catcher.port).send(Outgoing("k", "nobody@corp.test", "s", "<p>x</p>", "x"))
    with pytest.raises(DeliveryRefused) as malformed:
        EmailChannel("127.0.0.1", catcher.port).send(Outgoing("k", "zhang@corp", "s", "<p>x</p>", "x"))
    assert "拒收" in str(refused.value) and "550" in str(refused.value)
    assert "格式不正确" in str(malformed.value)
    assert not refused.value.retryable and not malformed.value.retryable
    assert catcher.messages == []
