"""Real peers for message tests: an SMTP server (aiosmtpd) and a WeCom-bot receiver."""

from __future__ import annotations

import pytest

from actops_dev.catcher import MailCatcher, WeComReceiver


@pytest.fixture(scope="session")
def smtp():
    box = MailCatcher().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def wecom():
    rx = WeComReceiver().start()
    yield rx
    rx.stop()
