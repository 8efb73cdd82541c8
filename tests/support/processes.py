"""`peerboard run` as real processes against the local stand-in for Discord
(tests/support/fake_discord.py): each with its own token label (so the stand-in can tell
who called), its output read line by line as it comes (so a test awaits a line instead of
sleeping), and stopped for certain at the end."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.fake_discord import TIMEOUT, FakeDiscord, token_for


@dataclass
class Peerboard:
    """One `peerboard run` process."""

    label: str  # its token's last part: fake_discord.sender() of its calls
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    said: asyncio.Condition = field(default_factory=asyncio.Condition)
    reader: asyncio.Task[None] | None = None
    ended: bool = False  # its output is closed

    @classmethod
    async def start(cls, fake: FakeDiscord, cwd: Path, label: str, **env: str) -> Peerboard:
        _workdir(cwd)
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("peerboard")),
            "run",
            cwd=cwd,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(cwd),
                "PEERBOARD_DISCORD_TOKEN": token_for(label),
                "PEERBOARD_DISCORD_API_BASE": f"http://127.0.0.1:{fake.port}/api/v10",
                "PEERBOARD_DISCORD_GATEWAY": f"ws://127.0.0.1:{fake.port}",
                **env,
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        started = cls(label, process)
        started.reader = asyncio.create_task(started._read())
        return started

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self.said:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.said.notify_all()
        async with self.said:  # the end of its output: waiters see it too
            self.ended = True
            self.said.notify_all()

    def count(self, pattern: str) -> int:
        found = re.compile(pattern)
        return sum(1 for line in self.lines if found.search(line))

    async def line(self, pattern: str, times: int = 1) -> None:
        """Wait until the output has `times` lines matching `pattern` (a regex); fail at
        once if the process ends first."""
        async with asyncio.timeout(TIMEOUT * 2), self.said:
            await self.said.wait_for(lambda: self.count(pattern) >= times or self.ended)
        if self.count(pattern) < times:
            raise AssertionError(
                f"{self.label} ended without {pattern!r}:\n" + "\n".join(self.lines[-60:])
            )

    def running(self) -> asyncio.Future[int]:
        return asyncio.ensure_future(self.process.wait())

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        if self.process.returncode is None:
            self.process.send_signal(how)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=TIMEOUT)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            await self.reader
        return code

    def output(self, last: int = 80) -> str:
        return f"--- {self.label} ---\n" + "\n".join(self.lines[-last:])


def _workdir(path: Path) -> None:
    """Each process its own folder (HOME, and where it would look for .env)."""
    path.mkdir(parents=True, exist_ok=True)
