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


@schema_app.command("apply")
def schema_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    prefix: str = typer.Option("", help="Prefix for base titles (tests, staging)."),
) -> None:
    """Create missing bases, tables, fields, views, forms and seed rows; report drift."""
    from actops.schema import load_schema
    from actops.schema.sync import apply

    try:
        plan = apply(_api(), load_schema(), prefix=prefix, dry_run=dry_run, log=lambda s: console.print(f"[dim]{s}[/dim]"))
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
    prefix: str = typer.Option("", help="Base title prefix."),
) -> None:
    """Fill the bases with the deterministic sample company; reruns add only what is missing."""
    from actops.store import Store
    from actops_dev.seed import seed as run_seed

    day = date.fromisoformat(today) if today else date.today()
    try:
        result = run_seed(Store(_api(), prefix), day, scale,
                          progress=lambda t, n, s: console.print(f"  {t}: +{n}" + (f" (已有 {s})" if s else "")))
    except ActopsError as exc:
        _fail(exc)
    console.print(f"seeded: {sum(c for c, _ in result.values())} new rows in {len(result)} tables")


@app.command()
def check(prefix: str = typer.Option("", help="Base title prefix.")) -> None:
    """Validate every table; report bad rows by table, Id and field (and mark them on the row)."""
    from actops.checks import check_all
    from actops.store import Store

    try:
        issues = check_all(Store(_api(), prefix), mark=True)
    except ActopsError as exc:
        _fail(exc)
    for i in issues[:200]:
        console.print(f"[yellow]{i}[/yellow]")
    console.print(f"{len(issues)} data issues")


run_app = typer.Typer(help="Run a job once, here, without Prefect's scheduler.", no_args_is_help=True)
app.add_typer(run_app, name="run")


@run_app.command("escalations")
def run_escalations(
    now: str | None = typer.Option(None, "--now", help="Pretend it is this moment (ISO-8601; Asia/Shanghai if no offset)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be sent and written; send and write nothing."),
    prefix: str = typer.Option("", help="Base title prefix."),
) -> None:
    """Reminders and escalations for overdue approvals, reports, minutes, action items, gates."""
    from actops.channels import channels_from_env
    from actops.jobs import escalations
    from actops.store import Store

    try:
        moment = parse_now(now)
        result = escalations.run(Store(_api(), prefix), moment, dry_run=dry_run, channels=channels_from_env(),
                                 log=lambda s: console.print(f"[dim]{s}[/dim]"))
    except (ActopsError, ValueError) as exc:
        _fail(exc)
    print_escalation_result(result)


def parse_now(text: str | None):
    from datetime import datetime

    from actops.rules.workdays import TZ

    if not text:
        return datetime.now(TZ)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def print_escalation_result(result) -> None:
    p = result.plan
    console.print(f"run {result.run_id}: {p.items} open items, {len(p.new_notices)} new notices, "
                  f"{len(p.issues)} data issues")
    for w in p.warnings:
        console.print(f"[yellow]! {w}[/yellow]")
    for i in p.issues[:50]:
        console.print(f"[yellow]{i}[/yellow]")
    if result.status == "dry-run":
        console.print(f"[bold]dry run[/bold]: would write {sum(len(v) for v in p.row_updates.values())} rows "
                      f"and send {len(result.would_send)} digests:")
        for d in result.would_send:
            console.print(f"  → {d.recipient.name}（{d.recipient.code}）: {len(d.notices)} items"
                          + ("  [urgent]" if d.urgent else "") + (f"  after {d.send_after:%H:%M}" if d.send_after else ""))
        return
    for who, ch, n in result.sent.messages:
        console.print(f"  sent {ch} → {who}: {n} items")
    for who, ch, err in result.sent.failures:
        console.print(f"[red]  failed {ch} → {who}: {err}[/red]")
    if result.sent.deferred:
        console.print(f"  {result.sent.deferred} notices wait for the end of quiet hours")
    console.print(f"status {result.status}; enqueued {result.enqueued}, sent {len(result.sent.messages)} messages")


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
