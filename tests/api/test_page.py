"""The web page in a real headless browser (Debian's chromium driven by Playwright): a person
types a task with required words, watches the drafts stream in, sees each iteration's diff,
score and critique on a chart, the answer with its confidence, and sends a thumbs up."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import async_playwright

from testkit.api_server import ApiServer
from testkit.browser import CHROMIUM_ARGS, require_chromium

SCREENSHOT_DIR = Path(os.environ.get("REFINERY_SCREENSHOT_DIR", "bench/out"))


async def test_page_runs_a_refinement_and_sends_feedback(api_server: ApiServer) -> None:
    chromium = require_chromium()
    api_server.fake.latency_s = 0.05  # slow enough to watch tokens arrive one by one
    requests: list[str] = []
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the browser
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("request", lambda r: requests.append(r.url))
            await page.goto(api_server.base_url + "/")
            await page.wait_for_selector("#config option[value=refine_default]", state="attached")
            await page.fill("#task", "Write a short story about a lighthouse keeper.")
            await page.fill("#words", "lamp, storm, gull, harbor, rope, tide")
            await page.click("summary:has-text('API key')")
            await page.fill("#apikey", api_server.keys["alice"])
            await page.click("#run")

            # Tokens show in the live panel while the run goes on (attached, not visible: on a
            # busy machine the run may finish, and hide the panel, before the check sees it).
            await page.wait_for_selector("#live-text:not(:empty)", state="attached")
            await page.wait_for_selector("#final:not([hidden])", timeout=60_000)

            iterations = await page.locator("#iterations > li").count()
            inserted = await page.locator("#iterations .diff ins").count()
            dots = await page.locator("#chart circle").count()
            answer = await page.text_content("#answer")
            confidence = await page.text_content("#confidence")
            first_findings = await page.text_content("#iterations > li:first-child .findings")

            await page.fill("#comment", "all six words, nicely")
            await page.click("#up")
            await page.wait_for_selector("#feedback-status:has-text('thanks')")
            await page.screenshot(path=str(SCREENSHOT_DIR / "page_finished.png"), full_page=True)
            thread_id = await page.get_attribute("#final", "data-thread")
            await browser.close()
    finally:
        api_server.fake.latency_s = 0.0

    assert iterations >= 2 and dots == iterations
    assert inserted >= 1, "the second iteration shows the words the refiner added"
    assert "required_words" in (first_findings or "")
    assert all(w in (answer or "") for w in ("lamp", "storm", "gull", "harbor", "rope", "tide"))
    assert confidence and confidence.endswith("%")
    own = urlsplit(api_server.base_url).netloc
    assert requests and all(urlsplit(u).netloc == own for u in requests), "loads only from us"
    async with httpx.AsyncClient(
        base_url=api_server.base_url, headers=api_server.auth("alice")
    ) as client:
        feedback = (await client.get(f"/v1/threads/{thread_id}/feedback")).json()
    assert (feedback["rating"], feedback["comment"]) == (1, "all six words, nicely")


def test_a_missing_chromium_fails_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import testkit.browser

    monkeypatch.setattr(testkit.browser, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(pytest.fail.Exception, match=r"scripts/setup\.sh --test"):
        require_chromium()
