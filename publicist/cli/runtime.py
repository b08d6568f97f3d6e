"""Running Publicist: database upgrades, workers, beat, the embedded runner and the demo."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from connectors import registry
from connectors.base import RateLimitPolicy
from publicist.cli.common import Table, console, database, err_console, safe, settings
from publicist.core.migrate import upgrade

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply schema migrations (the CLI also does this on first use of an empty database).

    Example: [bold]publicist db upgrade[/]
    """
    upgrade(settings().database_url, revision)
    console.print(f"database at revision {revision}")


@db_app.command("check-counts")
def db_check_counts() -> None:
    """Compare the delivery counts, campaign totals and account totals the database keeps
    with a count of every delivery, a sum of every daily rollup and of every latest value;
    exit code 1 and the differing rows if they differ (they never should: triggers keep
    them).

    Example: [bold]publicist db check-counts[/]
    """
    from campaigns.queries import count_mismatches
    from metrics.consistency import account_total_mismatches, total_mismatches

    with database() as session:
        mismatches = count_mismatches(session)
        totals = total_mismatches(session)
        accounts = account_total_mismatches(session)
    for total in totals:
        err_console.print(
            f"campaign {total.campaign_id} on {safe(total.platform)}: kept {total.kept}, "
            f"rollups {total.actual}",
            highlight=False,
        )
    for account in accounts:
        err_console.print(
            f"account {account.account_id} in campaign {account.campaign_id} on "
            f"{safe(account.platform)}: kept {account.kept}, latest values {account.actual}",
            highlight=False,
        )
    if not mismatches and not totals and not accounts:
        console.print(
            "[green]ok[/] delivery counts equal the deliveries, campaign totals the rollups, "
            "account totals the latest values"
        )
        return
    table = Table("campaign", "account", "state", "kept", "actual")
    for row in mismatches:
        table.add_row(
            str(row.campaign_id), str(row.account_id), safe(row.state), str(row.kept),
            str(row.actual),
        )  # fmt: skip
    if mismatches:
        err_console.print(table)
    err_console.print(
        f"[red]FAIL[/] {len(mismatches)} counts differ from the deliveries, "
        f"{len(totals)} campaign totals from the rollups, {len(accounts)} account totals "
        "from the latest values"
    )
    raise typer.Exit(1)


def health() -> None:
    """Check that the database and the broker answer; exit code 1 if one does not.

    Example: [bold]publicist health[/]
    """
    from publicist.core.health import check_all

    checks = check_all(settings())
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        console.print(
            f"{mark} {safe(check.name)}: {safe(check.detail)} ({check.seconds * 1000:.0f} ms)",
            highlight=False,
        )
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


def connectors() -> None:
    """List installed connectors and each platform's limits.

    Example: [bold]publicist connectors[/]
    """
    loaded, broken = registry.load_all()
    table = Table("platform", "name", "text", "media", "metrics batch", "publishing", "quota")
    for slug, connector in loaded.items():
        caps = connector.capabilities
        quota = _quota(caps.publish_rate_limit)
        if caps.app_publish_rate_limit:
            quota += f", app {_quota(caps.app_publish_rate_limit)}"
        kinds = ", ".join(sorted(k.value for k in caps.media_kinds))
        table.add_row(
            slug,
            caps.display_name,
            f"{caps.max_text_length} {caps.text_length_rule}",
            f"≤{caps.max_media} ({kinds})",
            str(caps.metrics_batch_size),
            "asynchronous" if caps.publishes_async else "immediate",
            quota,
        )
    console.print(table)
    for slug, reason in broken.items():
        err_console.print(f"[yellow]connector {safe(repr(slug))} failed to load:[/] {safe(reason)}")


def _quota(policy: RateLimitPolicy | None) -> str:
    return f"{policy.requests}/{policy.per_seconds:g}s" if policy else "-"


def _worker_argv(queues: str, concurrency: int, pool: str, beat: bool) -> list[str]:
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--queues={queues}",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv += ["--beat", "--schedule=publicist-beat-schedule"]
    return argv


def worker(
    queues: Annotated[
        str, typer.Option(help="Queues to serve: publish, metrics.")
    ] = "publish,metrics",
    concurrency: Annotated[
        int | None, typer.Option(help="Threads (default from settings).")
    ] = None,
) -> None:
    """Run a Celery worker (production: one per queue and machine, scale out freely).

    Example: [bold]publicist worker --queues publish --concurrency 32[/]
    """
    from scheduler.app import app

    config = settings()
    app.worker_main(
        _worker_argv(queues, concurrency or config.worker_concurrency, "threads", beat=False)
    )


def beat() -> None:
    """Run the beat scheduler (exactly one per installation).

    Example: [bold]publicist beat[/]
    """
    from scheduler.app import app

    app.start(["beat", "--loglevel=INFO", "--schedule=publicist-beat-schedule"])


def run() -> None:
    """Run worker and beat in one process: the embedded mode, no servers needed.

    Example: [bold]publicist run[/]
    """
    from publicist.cli.common import database
    from scheduler.app import app

    with database():
        pass  # create the schema before the worker starts
    config = settings()
    app.worker_main(
        _worker_argv("publish,metrics", config.worker_concurrency, "threads", beat=True)
    )


def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo's directory afterwards.")] = False,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Then serve the workspace on the demo's data until Ctrl-C "
            "(default: yes, unless the CI variable is set).",
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the workspace.")] = 8000,
) -> None:
    """Replay the reference scenario on a throwaway database, print the reports, then serve
    the workspace on that data with a demo person for each role.

    Example: [bold]publicist demo --port 8080[/]
    """
    from publicist.demo import run_demo

    if serve is None:
        serve = os.environ.get("CI", "").lower() not in ("1", "true", "yes")
    run_demo(keep=keep, serve_port=port if serve else None)
