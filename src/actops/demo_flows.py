"""The flows the demo runs after seeding; each later flow adds itself here."""

from __future__ import annotations

from rich.console import Console

from actops.nocodb import Api


def run_demo_flows(console: Console, api: Api) -> None:
    from actops.checks import check_all
    from actops.store import Store

    issues = check_all(Store(api), mark=True)
    console.print(f"data check: {len(issues)} rows need attention (see 「数据问题」 on each row)")
