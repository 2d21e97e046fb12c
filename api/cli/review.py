"""Reviews in the terminal: what a paused run shows its reviewer, the questions `refinery run`
asks when a person is at the keyboard (stdin a terminal), the `refinery threads resume` options
that answer a pause from a script, and the commands printed when nobody is there to ask."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt

from core.review import ReviewDecision


def show_review(console: Console, review: dict[str, Any]) -> None:
    """The paused answer, why it waits, its score, confidence, score history and findings."""
    title = f"review {review['round']}: {review['why']}"
    console.print(Panel(review["draft"], title=title, expand=False))
    confidence = review.get("confidence")
    scores = " -> ".join(f"{s:.2f}" for s in review.get("scores") or [])
    console.print(
        f"score {review['score']:.3f}  confidence "
        f"{'-' if confidence is None else f'{confidence:.3f}'}  "
        f"stopped: {review.get('stop_reason')}  scores {scores}"
    )
    for finding in (review.get("findings") or [])[:8]:
        console.print(f"  [yellow]{finding['source']}[/] {finding['message'][:160]}")


def resume_commands(thread_id: str) -> list[str]:
    """The commands that answer the thread's pending review from a shell."""
    base = f"refinery threads resume {shlex.quote(thread_id)}"
    return [
        f"{base} --approve",
        f"{base} --edit-file ANSWER.txt",
        f'{base} --feedback "what to change" [--change "one change"]...',
        f'{base} --reject [--reason "why"]',
    ]


def ask(console: Console, review: dict[str, Any]) -> dict[str, Any]:
    """Ask the person at the terminal for a decision until it is a valid one."""
    show_review(console, review)
    while True:
        choice = Prompt.ask(
            r"\[a]pprove, \[e]dit, \[f]eedback or \[r]eject", choices=list("aefr"), console=console
        )
        if choice == "a":
            decision: dict[str, Any] = {"action": "approve"}
        elif choice == "e":
            edited = click.edit(review["draft"])
            if edited is None or not edited.strip():
                console.print("no text saved; nothing changed")
                continue
            decision = {"action": "edit", "text": edited.strip()}
        elif choice == "f":
            decision = {
                "action": "feedback",
                "text": Prompt.ask("What should change", console=console),
            }
        else:
            reason = Prompt.ask("Why (optional)", default="", console=console)
            decision = {"action": "reject"} | ({"reason": reason} if reason else {})
        try:
            return ReviewDecision.model_validate(decision).root.model_dump(exclude_none=True)
        except ValidationError as exc:
            console.print(f"[red]{_problems(exc)}[/]")


def decision_of(
    approve: bool,
    edit: str | None,
    edit_file: Path | None,
    feedback: str | None,
    changes: list[str],
    reject: bool,
    reason: str | None,
) -> dict[str, Any] | None:
    """The decision `refinery threads resume` options give (None: no review option), validated
    as the API validates one; `typer.BadParameter` saying what is wrong otherwise."""
    if edit_file is not None:
        edit = edit_file.read_text(encoding="utf-8")
    actions = [
        name
        for name, given in (
            ("approve", approve),
            ("edit", edit is not None),
            ("feedback", feedback is not None or bool(changes)),
            ("reject", reject),
        )
        if given
    ]
    if not actions:
        if reason is not None:
            raise typer.BadParameter("--reason goes with --reject")
        return None
    if len(actions) > 1:
        raise typer.BadParameter(f"give one decision, not {' and '.join(actions)}")
    decision: dict[str, Any] = {"action": actions[0]}
    if actions[0] == "edit":
        decision["text"] = edit
    elif actions[0] == "feedback":
        decision |= {"text": feedback, "changes": changes}
    elif actions[0] == "reject" and reason:
        decision["reason"] = reason
    try:
        return ReviewDecision.model_validate(decision).root.model_dump(exclude_none=True)
    except ValidationError as exc:
        raise typer.BadParameter(_problems(exc)) from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'review'}: {e['msg']}" for e in exc.errors()
    )
