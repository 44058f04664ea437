"""``nst-bot run`` as a real process: SIGTERM with jobs running and waiting."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from fakes.telegram import FakeTelegram
from tests.bot.harness import PAINTING, PHOTO


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for an init that may not reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state.lower() and " Z " not in f" {state.split()[1]} "


async def test_sigterm_tells_waiting_users_and_leaves_no_orphans(
    fake: FakeTelegram, tmp_path: Path, random_weights_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
log_format = "text"
database = "{tmp_path / "db.sqlite3"}"
progress_interval = 1.0
[telegram]
base_url = "{fake.base_url}"
base_file_url = "{fake.base_file_url}"
album_wait = 0.3
[pool]
workers = 1
shutdown_grace = 1.0
threads = 1
weights = "{random_weights_path}"
[defaults]
size = 64
steps = 1000
""")
    env = {**os.environ, "STYLEBOT_TELEGRAM_TOKEN": fake.token}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as under systemd or in a container
    )
    try:
        await fake.wait_for_call("getUpdates", timeout=60)
        amy, bo = fake.user(4001, "Amy"), fake.user(4002, "Bo")
        running_chat, waiting_chat = fake.private_chat(amy), fake.private_chat(bo)
        fake.send_album(running_chat, amy, [PHOTO, PAINTING])
        await fake.wait_for_call("editMessageMedia", timeout=60)  # Amy's job is painting
        fake.send_album(waiting_chat, bo, [PHOTO, PAINTING])
        await fake.wait_for_call("sendPhoto", lambda c: c.chat_id == waiting_chat["id"])
        workers = children(proc.pid)
        assert workers, "the pool runs its work in child processes"
        mark = fake.mark()
        os.killpg(proc.pid, signal.SIGTERM)  # systemd signals every process of the unit
        code = await asyncio.wait_for(proc.wait(), timeout=30)
        _, stderr = await proc.communicate()
        assert code == 0, stderr.decode()[-2000:]
        notes = [
            c.params.get("caption", "") for c in fake.calls_to("editMessageCaption", since=mark)
        ]
        told = {
            c.chat_id: c.params.get("caption", "")
            for c in fake.calls_to("editMessageCaption", since=mark)
            if "restart" in c.params.get("caption", "")
        }
        assert set(told) == {running_chat["id"], waiting_chat["id"]}, notes
        # each is told the truth: one had started (not "perhaps out of memory"), one had not
        assert "restarted while painting" in told[running_chat["id"]]
        assert "was not started" in told[waiting_chat["id"]]
        await asyncio.sleep(0.5)  # the resource tracker notices its parent is gone
        leftovers = {
            pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in workers if alive(pid)
        }
        assert not leftovers
        assert fake.token not in stderr.decode()  # logs never carry the token
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
