"""A blocking job run every ``interval`` seconds in the region's executor (lifecycle, access logs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor

log = logging.getLogger("ferry.periodic")


class PeriodicWorker:
    def __init__(self, name: str, job: Callable[[], object], executor: Executor, interval: float) -> None:
        self._name = name
        self._job = job
        self._executor = executor
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start on the running loop; an interval of 0 leaves the job off."""
        if self._interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"ferry-{self._name}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._interval)
            try:
                await loop.run_in_executor(self._executor, self._job)
            except Exception:
                log.exception("%s failed; it runs again in %.1f s", self._name, self._interval)

    async def run_now(self) -> None:
        """Run the job once more (at shutdown: flush what is pending)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._job)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
