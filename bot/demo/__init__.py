"""`peerboard demo`: the real bot, a simulated server and a scripted community week.

- cast.py: who is in the server and what they work on, from a seed
- script.py: the week, as a list of steps
- runner.py: plays it with SimCord (the same simulator as the end-to-end tests)
- render.py: what members see, as terminal text

Nothing here runs at import, and SimCord is imported only when the demo runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from simcord.preview import Preview

    from bot.demo.runner import Outcome, PreviewHook, World


def wants_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR", "") != "":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


INSTALL_HINT = 'install it with  .venv/bin/pip install -e ".[demo]"'
# What simcord[preview] adds (SimCord checks the same modules when a preview starts).
PREVIEW_MODULES = ("aiohttp", "markdown_it", "linkify_it", "regex", "PIL")


def missing_simcord(*, preview: bool = False) -> str | None:
    """Why the demo (or its preview) can't run here, or None."""
    import importlib.util

    if importlib.util.find_spec("simcord") is None:
        return f"The demo needs SimCord: {INSTALL_HINT}"
    if preview:
        absent = [m for m in PREVIEW_MODULES if importlib.util.find_spec(m) is None]
        if absent:
            return f"The preview needs SimCord's preview extra ({', '.join(absent)} missing): {INSTALL_HINT}"
    return None


def migrated_sqlite(folder: Path) -> str:
    """A fresh SQLite file, migrated like `peerboard run` migrates its database."""
    from bot.db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    upgrade(url)
    return url


async def wait_for_preview(pv: Preview, world: World, out: TextIO) -> None:
    """Serve the page until it is closed in the browser or the user presses Ctrl-C."""
    viewer = world.community.who("picker").name
    print(file=out)
    print(f"Preview of #tasks: {pv.url}", file=out)
    print(
        f"Open it in a browser on this machine to look around as {viewer} (switch member in the page)"
        " and press the buttons yourself. It is served on 127.0.0.1 only. Ctrl-C to stop.",
        file=out,
    )
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    closed = asyncio.ensure_future(pv.wait_closed())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (closed, stopped):
            task.cancel()
        for signum in handled:
            loop.remove_signal_handler(signum)
    print("Preview closed.", file=out)


def run_demo(
    seed: int,
    *,
    preview: bool = False,
    out: TextIO | None = None,
    on_preview: PreviewHook | None = None,
    language: str = "en",
) -> int:
    """The CLI's entry point: a temporary database, the week, and the preview if asked
    (`on_preview` replaces waiting for Ctrl-C: tests look at the page and return).
    `language`: the server's (a code of bot.i18n.LANGUAGES; runner.py says what follows it)."""
    stream = out or sys.stdout
    problem = missing_simcord(preview=preview or on_preview is not None)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from bot.demo.runner import play

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="peerboard-demo-") as folder:
        url = migrated_sqlite(Path(folder))

        async def wait(pv: Preview, world: World) -> None:
            await wait_for_preview(pv, world, stream)

        hook = on_preview or (wait if preview else None)
        outcome: Outcome = asyncio.run(
            play(
                url,
                seed,
                stream,
                color=wants_color(stream),
                on_preview=hook,
                language=language,
            )
        )
    seconds = time.perf_counter() - began
    print(file=stream)
    print(
        f"{outcome.steps} steps over {(outcome.ended - outcome.started).days} virtual days: "
        f"{outcome.messages} messages, {len(outcome.requests)} API calls, in {seconds:.1f} s. "
        f"Another community: peerboard demo --seed {seed + 1}"
        + ("" if language == "en" else f" --locale {language}"),
        file=stream,
    )
    return 0


__all__ = ["missing_simcord", "run_demo", "wants_color"]
