"""The jobs the demo runs after seeding: every job in the registry, once, in order."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.console import Console

from actops import config
from actops.nocodb import Api


def run_demo_flows(console: Console, api: Api) -> None:
    from actops.checks import check_all
    from actops.kernel import runner
    from actops.kernel.calendar import TZ
    from actops.kernel.org import CHANNEL_EMAIL, CHANNEL_WECOM
    from actops.messaging.channels import EmailChannel, WeComChannel, channels_from_env
    from actops.registry import JOBS
    from actops.store import Store
    from actops_dev.catcher import MailCatcher, WeComReceiver

    store = Store(api)
    issues = check_all(store, mark=True)
    console.print(f"data check: {len(issues)} rows need attention (see 「数据问题」 on each row)")

    channels = channels_from_env()
    started = []
    data = config.repo_root() / ".actops"
    if CHANNEL_EMAIL not in channels:
        catcher = MailCatcher(folder=data / "mail").start()
        started.append(catcher)
        channels[CHANNEL_EMAIL] = EmailChannel(host="127.0.0.1", port=catcher.port, sender="actops@demo.local")
        console.print(f"no SMTP_HOST set: mails go to a local catcher, written to {data / 'mail'}/*.eml")
    if CHANNEL_WECOM not in channels:
        rx = WeComReceiver(folder=data / "wecom").start()
        started.append(rx)
        channels[CHANNEL_WECOM] = WeComChannel(rx.url)
        console.print(f"no WECOM_WEBHOOK_URL set: WeCom messages are written to {data / 'wecom'}/*.md")
    names = {e.code: e.name for e in store.table("employees").read(fields=["code", "name"])[0]}
    try:
        for entry in JOBS:
            result = runner.run(entry.load(), store, datetime.now(TZ), channels=channels)
            _report(console, entry, result, names)
    finally:
        for s in started:
            s.stop()


def _report(console: Console, entry, result, names: dict[str, str]) -> None:
    p = result.plan
    facts = ", ".join(f"{k} {v}" for k, v in p.stats.items()) or result.note
    console.print(f"{entry.title}（{entry.name}）: {facts}; {len(result.sent.messages)} messages sent, "
                  f"{len(p.issues)} rows reported")
    if result.sent.deferred:
        console.print(f"  {result.sent.deferred} messages wait in 消息发件箱 for the end of quiet hours "
                      "(系统设置 quiet_hours); urgent ones went now")
    per = Counter(who for who, _, _ in result.sent.messages)
    for who, n in per.most_common(8):
        console.print(f"  {names.get(who, who)}（{who}）: {n} message(s)")
    if len(per) > 8:
        console.print(f"  … and {len(per) - 8} more people; every message is a row in 消息发件箱")
