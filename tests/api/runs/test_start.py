"""Starting a run: a face that cannot pause for a person (the OpenAI-compatible chat, the MCP
tool) runs a preset that asks for review without its review point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.runs.execute import RunSpec
from api.runs.start import unreviewed
from core.run_config import load_config
from testkit.llm import Configure


@pytest.fixture
def reviewed_preset(llm_settings: Configure, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "reviewed.json").write_text('{"review": {"when": "always"}}')
    llm_settings(presets_dir=str(tmp_path))
    load_config.cache_clear()
    yield "reviewed"
    load_config.cache_clear()


def test_a_preset_asking_for_review_runs_without_it_where_nobody_can_answer(
    reviewed_preset: str,
) -> None:
    spec = RunSpec(thread_id="t", key_id="k", request={"task": "Hi.", "config": reviewed_preset})
    assert unreviewed(spec).request == {
        "task": "Hi.",
        "config": reviewed_preset,
        "review": {"when": "never"},
    }


def test_a_preset_without_review_is_left_as_it_is(reviewed_preset: str) -> None:
    spec = RunSpec(thread_id="t", key_id="k", request={"task": "Hi.", "config": "single_pass"})
    assert unreviewed(spec) is spec
