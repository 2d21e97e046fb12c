"""`refinery run --review` on the fake model and a real Redis: with nobody at the terminal the
run pauses and prints how to answer it, and `refinery threads resume` answers it; at a terminal
(a pseudo-terminal here) it asks, takes feedback, asks again, and finishes on approval."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.fake_openai import FakeOpenAI
from testkit.processes import serve_env

REFINERY = str(Path(sys.executable).with_name("refinery"))
RUN = [REFINERY, "run", "Write a short text.", "--words", "dog,snow,piano,wine"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def env(api_fake_llm: FakeOpenAI, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield serve_env(
        api_fake_llm.base_url,
        redis_url,
        tmp_path,
        f"clirev{uuid.uuid4().hex[:6]}",
        REFINERY_LOG_LEVEL="WARNING",
        COLUMNS="200",
    )


def refinery(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REFINERY, *args] if args[0] != "run" else [*RUN, *args[1:]],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_a_terminal_it_pauses_and_threads_resume_answers(
    env: dict[str, str], tmp_path: Path
) -> None:
    paused = refinery(env, "run", "--review", "always")
    assert paused.returncode == 0, paused.stderr
    said = " ".join(ANSI.sub("", paused.stderr).split())
    thread_id = re.search(r"thread (\S+) awaits a review", said)[1]
    assert f"refinery threads resume {thread_id} --approve" in said
    assert f"refinery threads resume {thread_id} --edit-file ANSWER.txt" in said
    assert "every answer is reviewed" in said

    (tmp_path / "answer.txt").write_text("The dog ran in the snow to the piano and the wine.\n")
    edited = refinery(
        env, "threads", "resume", thread_id, "--edit-file", str(tmp_path / "answer.txt"), "--json"
    )
    assert edited.returncode == 0, edited.stderr
    result = json.loads(edited.stdout)
    assert result["answer"] == "The dog ran in the snow to the piano and the wine."
    assert result["stop_reason"] == "edited"

    again = refinery(env, "threads", "resume", thread_id, "--approve")
    assert again.returncode == 2
    assert "not awaiting a review" in " ".join(again.stderr.split())
    both = refinery(env, "threads", "resume", thread_id, "--approve", "--reject")
    assert both.returncode == 2 and "give one decision, not approve and reject" in both.stderr


def test_at_a_terminal_it_asks_takes_feedback_and_asks_again(env: dict[str, str]) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*RUN, "--review", "always"],
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    screen = _Screen(leader)
    try:
        screen.until("[a]pprove, [e]dit, [f]eedback or [r]eject")
        screen.send("f")
        screen.until("What should change")
        screen.send('Add the sentence "The dog slept by the piano."')
        second = screen.until("[a]pprove, [e]dit, [f]eedback or [r]eject")
        screen.send("a")
        finished = screen.until_exit(process)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert process.returncode == 0, finished
    assert "review 2:" in second and "The dog slept by the piano." in second
    assert "answer" in finished and "The dog slept by the piano." in finished
    assert re.search(r"stop reason\s+passed", finished), finished


class _Screen:
    """What a process wrote to its terminal, read until a text shows (or it exits)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.text, self.read_to = fd, "", 0

    def _read(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the process exited and closed the terminal
            return False
        self.text += ANSI.sub("", chunk.decode(errors="replace"))
        return bool(chunk)

    def until(self, needle: str, timeout_s: float = 120) -> str:
        """The text since the last call, up to and including `needle`."""
        import time

        deadline = time.monotonic() + timeout_s
        while needle not in self.text[self.read_to :]:
            assert time.monotonic() < deadline, f"{needle!r} never showed:\n{self.text[-3000:]}"
            self._read(1.0)
        end = self.text.index(needle, self.read_to) + len(needle)
        seen, self.read_to = self.text[self.read_to : end], end
        return seen

    def send(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def until_exit(self, process: subprocess.Popen[bytes], timeout_s: float = 120) -> str:
        import time

        deadline = time.monotonic() + timeout_s
        while process.poll() is None and time.monotonic() < deadline:
            self._read(0.5)
        while self._read(0.2):
            pass
        return self.text[self.read_to :]
