"""`lifecycle projections rebuild`: replay the whole log into the read models.

After a change to how events fold (new code, a fixed bug) the board and inbox rows must be
recomputed from the events. This runs against the database (`--database-url` or
`DATABASE_URL`), as any role that may read `events` and write the projection tables (the
application's role may). The replay advances the projection's checkpoint batch by batch, in
the same transaction as the rows, so the progress bar reads the checkpoint, and API processes
following the log meanwhile join in through the same checkpoint lock instead of racing it.

`--workers N` folds in N processes, each a share of the products (`store/projection_rebuild.py`);
API processes fold nothing until it is done. If it was interrupted, run it again with `--force`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import asyncpg
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from cli import render
from cli.session import EXIT_UNAVAILABLE, OutputOption, session
from store.event_store import EventStore
from store.projections import (
    ProductProjection,
    ProjectionError,
    RebuildInProgress,
    RebuildTakenOver,
)

projections_app = typer.Typer(help="The read models folded from the log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projections_app, name="projections")


@projections_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            envvar="DATABASE_URL",
            show_default=False,
            help="The lifecycle database.",
        ),
    ],
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes folding at once, each a share of the products (one per core).",
        ),
    ] = 1,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Take over from a parallel rebuild that was interrupted (see docs)."
        ),
    ] = False,
    output: OutputOption = None,
) -> None:
    """Forget the product read model and replay the whole log into it, with progress."""
    with session(ctx, output) as s:
        bar = Progress(
            *Progress.get_default_columns()[:1],
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=s.err,
            transient=True,
            disable=not s.err.is_terminal,
        )

        async def replay() -> dict[str, Any]:
            pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
            try:
                store = EventStore(pool)
                projection = ProductProjection(pool, store)
                head = (await store.head())[0]
                what = "replaying the log" if workers == 1 else f"folding in {workers} processes"
                task = bar.add_task(what, total=head)
                work = asyncio.ensure_future(
                    projection.rebuild(workers=workers, database_url=database_url, force=force)
                )
                while not work.done():
                    await asyncio.wait({work}, timeout=0.2)
                    bar.update(task, completed=max(0, await projection.checkpoint()))
                applied = await work
                return {"applied": applied, "checkpoint": await projection.checkpoint()}
            finally:
                await pool.close()

        try:
            with bar:
                body = asyncio.run(replay())
        except ProjectionError as error:
            refusal = {"error": {"rule": "projection.stalled", "message": str(error)}}
            raise s.fail(f"the replay stopped: {error}", refusal, 1) from None
        except (RebuildInProgress, RebuildTakenOver) as error:
            refusal = {"error": {"rule": "projection.rebuilding", "message": str(error)}}
            raise s.fail(f"cannot rebuild: {error}", refusal, 1) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
            refusal = {"error": {"rule": "database.unreachable", "message": str(error)}}
            raise s.fail(f"cannot rebuild: {error}", refusal, EXIT_UNAVAILABLE) from None
        line = (
            f"rebuilt: {body['applied']} product events replayed; "
            f"checkpoint at position {body['checkpoint']}"
        )
        s.emit(body, lambda console: console.print(render.text(line, "green")))
