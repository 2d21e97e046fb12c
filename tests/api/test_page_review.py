"""The page's review in a real headless browser (Debian's chromium driven by Playwright): a
person asks for review, the run pauses and shows the pending answer with its score, findings
and the four decisions; they edit the answer and save it, and the final answer is their edit."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from testkit.api_server import ApiServer
from testkit.browser import CHROMIUM_ARGS, require_chromium

SCREENSHOT_DIR = Path(os.environ.get("REFINERY_SCREENSHOT_DIR", "runs/screenshots"))
EDIT = "The lamp burned all night. The keeper heard the storm and the gull at the harbor."


async def test_a_reviewer_edits_the_paused_answer_and_the_edit_is_final(
    api_server: ApiServer,
) -> None:
    chromium = require_chromium()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the browser
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 1500})
        await page.goto(api_server.base_url + "/")
        await page.wait_for_selector("#config option[value=refine_default]", state="attached")
        await page.fill("#task", "Write a short story about a lighthouse keeper.")
        await page.fill("#words", "lamp, storm, gull, harbor")
        await page.select_option("#review", "always")
        await page.click("summary:has-text('API key')")
        await page.fill("#apikey", api_server.keys["alice"])
        await page.click("#run")

        await page.wait_for_selector("#review-card:not([hidden])", timeout=60_000)
        pending = await page.input_value("#review-text")
        meta = await page.text_content("#review-meta")
        status = await page.text_content("#status")
        buttons = await page.locator("#review-card .actions button").all_text_contents()
        final_hidden = await page.get_attribute("#final", "hidden")
        await page.screenshot(path=str(SCREENSHOT_DIR / "page_review_pending.png"), full_page=True)

        await page.fill("#review-text", EDIT)
        await page.click("#review-edit")
        await page.wait_for_selector("#final:not([hidden])", timeout=60_000)
        answer = await page.text_content("#answer")
        final_meta = await page.text_content("#final-meta")
        card_hidden = await page.get_attribute("#review-card", "hidden")
        await page.screenshot(path=str(SCREENSHOT_DIR / "page_review_edited.png"), full_page=True)
        thread_id = await page.get_attribute("#final", "data-thread")
        await browser.close()

    assert pending and "lamp" in pending
    assert meta and meta.startswith("round 1 · score ")
    assert status == "waiting for your review"
    assert buttons == ["Approve", "Save edit", "Send feedback", "Reject"]
    assert final_hidden is not None, "no answer is shown while the run waits for review"
    assert answer == EDIT
    assert final_meta and "edited" in final_meta
    assert card_hidden is not None
    async with httpx.AsyncClient(
        base_url=api_server.base_url, headers=api_server.auth("alice")
    ) as client:
        thread = (await client.get(f"/v1/threads/{thread_id}")).json()
    assert thread["status"] == "done" and thread["answer"] == EDIT
    [review] = thread["reviews"]
    assert (review["action"], review["draft"], review["corrected"]) == ("edit", pending, EDIT)
