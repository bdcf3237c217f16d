"""`actops demo`: the whole local system in one command, rerunnable."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from actops import config


def run_demo(console: Console) -> None:
    from actops.nocodb import Api
    from actops.schema import load_schema
    from actops.schema.sync import apply
    from actops.store import Store
    from actops_dev.seed import seed
    from actops_dev.stack import ADMIN_EMAIL, LocalStack

    external = config.get("NOCODB_URL") and config.get("ACTOPS_MANAGED") != "1"
    local = LocalStack.default()
    if not external:
        console.rule("1/4 NocoDB")
        local.up(log=lambda s: console.print(f"[dim]{s}[/dim]"))
    cfg = config.nocodb()
    api = Api(cfg.url, cfg.token)
    console.rule("2/4 schema")
    plan = apply(api, load_schema(), log=lambda s: console.print(f"[dim]{s}[/dim]"))
    console.print(f"{len(plan.changes)} schema changes applied")
    console.rule("3/4 sample company")
    result = seed(Store(api), date.today(),
                  progress=lambda t, n, s: console.print(f"  {t}: +{n}" + (f" (已有 {s})" if s else "")))
    console.print(f"{sum(c for c, _ in result.values())} new rows")
    console.rule("4/4 flows")
    from actops_dev.demo_flows import run_demo_flows

    run_demo_flows(console, api)  # includes `access`: every active employee is invited
    staff = None
    if not external:
        from actops_dev.accounts import accounts_file, sign_up_pending

        staff = sign_up_pending(api, [b.id for s in load_schema() if (b := api.base_by_title(s.zh))])
    console.rule("ready")
    console.print(f"NocoDB:   {cfg.url}  (open it in a browser)")
    if not external:
        console.print(f"Login:    {ADMIN_EMAIL} / password in {local.data_dir / 'admin-password'}")
    if staff:
        console.print(f"Staff:    {len(staff)} sign-ins (e-mail, password) in {accounts_file()}; "
                      "switch NocoDB to Chinese: avatar (bottom left) → Language → 简体中文")
    console.print("Look first at: 活动运营 → 审批步骤 → view 「待我审批」; 待办事项 → 「本部门逾期事项」;")
    console.print("               活动 → 「本月活动」 and form 「活动项目启动申请表」; 预算科目 → 「预算超支」;")
    console.print("               消息发件箱 (what the flows sent) and 运行日志 (every run, its issues and writes).")
