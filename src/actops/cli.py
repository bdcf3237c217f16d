"""`actops …`: the local stack, the schema, the sample company and the flows."""

from __future__ import annotations

import sys
from datetime import date

import typer
from rich.console import Console

from actops import config
from actops.errors import ActopsError

app = typer.Typer(help="actops — 活动运营系统 (NocoDB + Prefect)", no_args_is_help=True, add_completion=False)
schema_app = typer.Typer(help="Schema as code: make NocoDB match schema/.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
console = Console()


def _api():
    from actops.nocodb import Api

    cfg = config.nocodb()
    return Api(cfg.url, cfg.token)


def _fail(exc: Exception) -> None:
    # One line on stderr, never wrapped: scripts and people both read it.
    typer.secho(f"actops: {exc}", fg="red", err=True)
    raise typer.Exit(1)


def main() -> None:  # console-script wrapper: one clear line instead of a traceback
    try:
        app()
    except ActopsError as exc:
        typer.secho(f"actops: {exc}", fg="red", err=True)
        sys.exit(1)


@app.command()
def up() -> None:
    """Start the local NocoDB (installing it the first time) and write .env."""
    from actops_dev.stack import LocalStack

    if config.get("NOCODB_URL") and config.get("ACTOPS_MANAGED") != "1":
        api = _api()
        if not api.health():
            _fail(ActopsError(f"NocoDB at {api.url} (from NOCODB_URL) does not answer"))
        console.print(f"using existing NocoDB at {api.url}; nothing started")
        return
    try:
        url, _ = LocalStack.default().up(log=lambda s: console.print(f"[dim]{s}[/dim]"))
    except ActopsError as exc:
        _fail(exc)
    console.print(f"NocoDB is up at {url}; NOCODB_URL and NOCODB_TOKEN are in {config.env_file()}")


@app.command()
def down() -> None:
    """Stop the local NocoDB started by `actops up`."""
    from actops_dev.stack import LocalStack

    console.print("stopped" if LocalStack.default().stop() else "not running")


@app.command()
def status() -> None:
    """Say whether NocoDB answers and the token works."""
    from actops_dev.stack import LocalStack

    try:
        cfg = config.nocodb()
    except ActopsError as exc:
        _fail(exc)
    api = _api()
    if not api.health():
        _fail(ActopsError(f"NocoDB at {cfg.url} is not answering; run `actops up`"))
    try:
        n = len(api.bases())
    except ActopsError as exc:
        _fail(exc)
    local = LocalStack.default()
    console.print(f"NocoDB {cfg.url}: up, token ok, {n} bases" + (f", pid {local.pid()}" if cfg.managed else " (external)"))


def _prefix(prefix: str | None) -> str:
    """The base title prefix: the option, else ACTOPS_BASE_PREFIX, as the jobs resolve it."""
    from actops import config

    return prefix if prefix is not None else (config.get("ACTOPS_BASE_PREFIX") or "")


@schema_app.command("apply")
def schema_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
) -> None:
    """Create missing bases, tables, fields, views, forms and seed rows; report drift."""
    from actops.schema import load_schema
    from actops.schema.sync import apply

    try:
        plan = apply(_api(), load_schema(), prefix=_prefix(prefix), dry_run=dry_run, log=lambda s: console.print(f"[dim]{s}[/dim]"))
    except ActopsError as exc:
        _fail(exc)
    if dry_run:
        console.print(plan.render())
    else:
        for d in plan.drift:
            console.print(f"[yellow]! drift (left as is): {d}[/yellow]")
        console.print(f"{len(plan.changes)} changes applied, {len(plan.drift)} drift notes")


@app.command()
def seed(
    scale: int = typer.Option(1, help="Multiply the sample company (benchmarks)."),
    today: str | None = typer.Option(None, help="Pretend today is this date (YYYY-MM-DD)."),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
) -> None:
    """Fill the bases with the deterministic sample company; reruns add only what is missing."""
    from actops.store import Store
    from actops_dev.seed import seed as run_seed

    day = date.fromisoformat(today) if today else date.today()
    try:
        result = run_seed(Store(_api(), _prefix(prefix)), day, scale,
                          progress=lambda t, n, s: console.print(f"  {t}: +{n}" + (f" (已有 {s})" if s else "")))
    except ActopsError as exc:
        _fail(exc)
    console.print(f"seeded: {sum(c for c, _ in result.values())} new rows in {len(result)} tables")


@app.command()
def check(prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none).")) -> None:
    """Validate every table; report bad rows by table, Id and field (and mark them on the row)."""
    from actops.checks import check_all
    from actops.store import Store

    try:
        issues = check_all(Store(_api(), _prefix(prefix)), mark=True)
    except ActopsError as exc:
        _fail(exc)
    for i in issues[:200]:
        console.print(f"[yellow]{i}[/yellow]")
    console.print(f"{len(issues)} data issues")


calendar_app = typer.Typer(help="工作日历 (ESC-3): the PRC workday calendar in NocoDB.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("sync")
def calendar_sync(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be added; add nothing."),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
) -> None:
    """Add the dates 工作日历 lacks for every year chinese_calendar knows; keep rows an administrator changed."""
    from actops.jobs.intake.calendar_sync import sync_calendar
    from actops.store import Store

    try:
        plan = sync_calendar(Store(_api(), _prefix(prefix)), dry_run=dry_run)
    except ActopsError as exc:
        _fail(exc)
    console.print(plan.summary())
    for day, why in plan.kept[:50]:
        console.print(f"  kept {day}: {why}")
    if len(plan.kept) > 50:
        console.print(f"  … and {len(plan.kept) - 50} more kept")
    for day in plan.duplicates[:20]:
        console.print(f"[yellow]! {day}: more than one row for this date (left as is; delete the extra row)[/yellow]")
    console.print(f"dry run: would add {len(plan.add)} dates" if dry_run else f"added {plan.added} dates")


run_app = typer.Typer(help="Run a job once, here, without Prefect's scheduler.", no_args_is_help=True)
app.add_typer(run_app, name="run")
deploy_app = typer.Typer(help="Prefect deployments derived from the job registry.", no_args_is_help=True)
app.add_typer(deploy_app, name="deployments")


def _run_command(entry):
    import inspect

    def command(now: str | None = None, dry_run: bool = False, prefix: str | None = None, **options) -> None:
        from actops.service import run_job

        params = {k: v for k, v in options.items() if v not in (None, False)}
        try:
            result = run_job(entry.name, parse_now(now), dry_run=dry_run, prefix=prefix,
                             log=lambda s: console.print(f"[dim]{s}[/dim]"), params=params)
        except (ActopsError, ValueError) as exc:
            _fail(exc)
        print_result(result)

    common = [
        inspect.Parameter("now", inspect.Parameter.KEYWORD_ONLY, annotation=str | None, default=typer.Option(
            None, "--now", help="Pretend it is this moment (ISO-8601; Asia/Shanghai if no offset).")),
        inspect.Parameter("dry_run", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
            False, "--dry-run", help="Print what would be sent and written; send and write nothing.")),
        inspect.Parameter("prefix", inspect.Parameter.KEYWORD_ONLY, annotation=str | None, default=typer.Option(
            None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none).")),
    ]
    own = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, annotation=bool if o.flag else str | None,
                             default=typer.Option(False if o.flag else None, f"--{o.name}", help=o.help))
           for o in entry.options]
    command.__signature__ = inspect.Signature([*common, *own], return_annotation=None)  # type: ignore[attr-defined]
    command.__doc__ = f"{entry.title}: {entry.description}"
    return command


def _register_jobs() -> None:
    from actops.registry import JOBS

    for entry in JOBS:
        run_app.command(entry.name)(_run_command(entry))


_register_jobs()


@deploy_app.command("write")
def deployments_write() -> None:
    """Regenerate flows/<job>.py and prefect.yaml from the registry."""
    from actops.orchestration import write

    changed = write(config.repo_root())
    console.print("\n".join(f"wrote {p}" for p in changed) or "flows/ and prefect.yaml are up to date")


def parse_now(text: str | None):
    from datetime import datetime

    from actops.kernel.calendar import TZ

    if not text:
        return datetime.now(TZ)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def print_result(result) -> None:
    p = result.plan
    stats = ", ".join(f"{k} {v}" for k, v in p.stats.items())
    console.print(f"run {result.run_id}: {stats or result.note or 'nothing to do'}; {len(p.issues)} data issues")
    for w in p.warnings:
        console.print(f"[yellow]! {w}[/yellow]")
    for i in p.issues[:50]:
        console.print(f"[yellow]{i}[/yellow]")
    if result.status == "dry-run":
        writes = sum(len(v) for v in p.row_updates.values())
        console.print(f"[bold]dry run[/bold]: would write {writes} rows and send {len(p.messages)} messages:")
        for m in p.messages:
            console.print(f"  → {m.recipient_name}（{m.recipient}） {m.channel}: {len(m.items)} items"
                          + ("  [urgent]" if m.urgent else "") + f"  not before {m.not_before:%Y-%m-%d %H:%M}")
        return
    for who, ch, n in result.sent.messages:
        console.print(f"  sent {ch} → {who}: {n} items")
    for who, ch, err in result.sent.failures:
        console.print(f"[red]  failed {ch} → {who}: {err}[/red]")
    if result.sent.deferred:
        console.print(f"  {result.sent.deferred} messages wait (quiet hours or retry back-off)")
    console.print(f"status {result.status}; enqueued {result.enqueued}, sent {len(result.sent.messages)} messages"
                  + (f" ({result.note})" if result.note else ""))


access_app = typer.Typer(help="Accounts and roles as code: NocoDB's members follow the 员工 table.",
                         no_args_is_help=True)
app.add_typer(access_app, name="access")


@access_app.command("apply")
def access_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="List the invitations, role changes and removals; change nothing."),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
    demo_passwords: bool = typer.Option(False, "--demo-passwords",
                                        help="Local stack only: set a password for each pending invitation, "
                                             "kept in .actops/accounts.csv."),
) -> None:
    """Invite every active employee, set their role per base, remove leavers; welcome new accounts."""
    from actops.service import run_job, store_from_env

    if demo_passwords and not config.nocodb().managed:
        _fail(ActopsError("--demo-passwords is for the local stack (`actops up`) only; "
                          "elsewhere people choose their password from NocoDB's invitation e-mail"))
    try:
        store = store_from_env(prefix)
        result = run_job("access", parse_now(None), dry_run=dry_run, store=store,
                         log=lambda s: console.print(f"[dim]{s}[/dim]"))
    except ActopsError as exc:
        _fail(exc)
    for change in result.plan.extra:
        console.print(f"  {'would: ' if dry_run else ''}{change}")
    print_result(result)
    if demo_passwords and not dry_run:
        from actops_dev.accounts import accounts_file, sign_up_pending

        known = sign_up_pending(store.api, _base_ids(store), accounts_file())
        console.print(f"{len(known)} sign-ins in {accounts_file()} (git-ignored; e-mail, password)")


approvals_app = typer.Typer(help="审批 (APR): checks on the approval history.", no_args_is_help=True)
app.add_typer(approvals_app, name="approvals")


@approvals_app.command("verify")
def approvals_verify(
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report only; mark nothing."),
) -> None:
    """Check every request's decision history; report edited or deleted decisions and mark them for audit."""
    from actops.jobs.approvals.verify import verify
    from actops.service import store_from_env

    try:
        checked, findings = verify(store_from_env(prefix), mark=not dry_run)
    except ActopsError as exc:
        _fail(exc)
    for f in findings:
        where = f"审批记录 第{f.row}行" if f.row is not None else "审批申请"
        console.print(f"[red]✗ {f.request} {where}：{f.why}[/red]")
    bad = len({f.request for f in findings})
    console.print(f"{checked} requests checked; {bad} with an altered history"
                  + ("" if dry_run or not bad else " (marked 审计关注, said in 数据问题)"))
    if bad:
        raise typer.Exit(1)


def _base_ids(store) -> list[str]:
    from actops.schema.sync import base_title

    found = (store.api.base_by_title(base_title(s, store.prefix)) for s in store.specs)
    return [b.id for b in found if b is not None]


automations_app = typer.Typer(help="Reactions to table edits (automations/*.yaml) as NocoDB webhooks (SEC-2).",
                              no_args_is_help=True)
app.add_typer(automations_app, name="automations")


@automations_app.command("apply")
def automations_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be created, updated and deleted; change nothing."),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
    directory: str | None = typer.Option(None, "--dir", help="Rules directory (default: ACTOPS_AUTOMATIONS_DIR or automations/)."),
) -> None:
    """One NocoDB webhook per rule and event, posting to `actops serve` (ACTOPS_WEBHOOK_URL) with
    ACTOPS_WEBHOOK_SECRET; reruns change only what differs; hooks not made by actops are left alone."""
    from pathlib import Path

    from actops.automations.hooks import apply_from_env

    try:
        report = apply_from_env(prefix, Path(directory) if directory else None, dry_run=dry_run, echo=typer.echo)
    except ActopsError as exc:
        _fail(exc)
    if report.skipped:
        raise typer.Exit(1)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (behind a reverse proxy: keep loopback)."),
    port: int = typer.Option(None, help="Port (default: ACTOPS_SERVE_PORT or 8090).", show_default=False),
    prefix: str | None = typer.Option(None, help="Base title prefix (default: ACTOPS_BASE_PREFIX or none)."),
    print_link: str | None = typer.Option(None, "--print-link", metavar="工号",
                                          help="Print this person's signed 「我的待办」 link and exit."),
    now: str | None = typer.Option(None, "--now", help="Judge items as of this moment (demos, tests); "
                                   "links still expire by the real clock."),
) -> None:
    """Serve 「我的待办」: each person's open items behind the signed link in their digests."""
    from actops.kernel.links import DEFAULT_PORT
    from actops.web.app import serve as run_service

    try:
        run_service(host, port or int(config.get("ACTOPS_SERVE_PORT") or DEFAULT_PORT), prefix, print_link,
                    parse_now(now) if now else None, echo=typer.echo)
    except (ActopsError, ValueError) as exc:
        _fail(exc)


@app.command()
def demo() -> None:
    """up + schema apply + seed, then say where to look."""
    from actops_dev.demo import run_demo

    try:
        run_demo(console)
    except ActopsError as exc:
        _fail(exc)


if __name__ == "__main__":
    main()
