"""A real redis-server on 127.0.0.1 for the tests, and painters (``nst-bot worker``) as
real subprocesses taking jobs from it — never a mock."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis (no persistence) on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (.ci/run installs it: "
                           "apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class Painters:
    """``nst-bot worker`` subprocesses for one Redis, started and killed at will."""

    def __init__(self, url: str, weights: str, directory: Path, *,
                 heartbeat: int = 6, job_timeout: float = 120) -> None:
        self.url = url
        self.config = directory / "painter.toml"
        self.config.write_text(
            f'log_format = "text"\n[pool]\nbackend = "redis"\nweights = "{weights}"\n'
            f"threads = 1\nheartbeat = {heartbeat}\njob_timeout = {job_timeout}\n"
            "shutdown_grace = 5\n[gallery]\nwarm_sizes = [64]\n")  # a quick warm-up
        self.processes: list[subprocess.Popen[bytes]] = []
        self.log = directory / "painters.log"  # read it when a test fails

    def start(self, count: int = 1) -> None:
        env = {**os.environ, "STYLEBOT_REDIS_URL": self.url, "PYTHONPATH": str(REPO)}
        for _ in range(count):
            with self.log.open("ab") as log:  # not a pipe: nobody reads it, it would fill
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-m", "bot", "worker", "--config", str(self.config)],
                    env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True))

    def wait_registered(self, count: int, timeout: float = 120) -> None:
        """Until ``count`` painters announce themselves to the queue (weights loaded)."""
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while len(client.zrangebyscore("saq:stylebot:stats", time.time() * 1000, "inf")) \
                < count:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(self.log.read_text()[-2000:])
            if time.monotonic() > deadline:
                raise TimeoutError("painters did not register")
            time.sleep(0.1)
        client.close()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:
                process.kill()
                process.wait()
        self.processes.clear()


def forget_jobs(url: str) -> None:
    """Stop running jobs (as SAQ's abort does), then drop every job, payload and queue
    entry — not the painters' registrations."""
    client = redis.Redis.from_url(url)
    for job_id in client.lrange("saq:stylebot:active", 0, -1):
        raw = client.get(job_id)
        if raw:
            job = json.loads(raw)
            job.update(status="aborting", error="cancelled")
            client.set(job_id, json.dumps(job))
    deadline = time.monotonic() + 30
    while client.llen("saq:stylebot:active") and time.monotonic() < deadline:
        time.sleep(0.1)  # painters poll for aborts every second
    for pattern in ("stylebot:*", "saq:job:*", "saq:stylebot:queued", "saq:stylebot:active",
                    "saq:stylebot:incomplete", "saq:abort:*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)
    client.close()
