"""One process per run directory: an exclusive ``fcntl.flock`` on ``RUN_DIR/run.lock``.

Two runs on one directory would both do all the work and add up their timings. The lock
file records who holds it (pid, host, since) so that the second run can say so. The kernel
releases a flock when its process dies, so a lock left by a killed run (a dead pid in the
file) is simply taken over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LockedError

LOCK_NAME = "run.lock"


@dataclass
class RunLock:
    """A held lock; :meth:`release` (or process exit) frees it."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = -1


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(info["since"])))
        return f"pid {info['pid']} on {info['host']} since {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def acquire(run_dir: Path | str, wait: bool = False) -> RunLock:
    """Take the run directory's lock; a :class:`LockedError` naming the holder if it is held
    (or block until it is free with ``wait=True``)."""
    path = Path(run_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise LockedError(f"{run_dir} is in use by {_holder(path)}; wait for it to finish or rerun with --wait") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode())
    os.fsync(fd)
    return RunLock(path, fd)
