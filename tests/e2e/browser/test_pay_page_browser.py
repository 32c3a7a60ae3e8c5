"""The payment page in a real Chromium on a phone-sized screen: it turns to "paid" by itself
when the payment is settled in the simulator, without reloading."""

from __future__ import annotations

import pytest

from tests.e2e.demo.conftest import create_intent, settle

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 360, "height": 740}


async def open_page(browser, url: str):
    context = await browser.new_context(viewport=PHONE, locale="es-MX")
    page = await context.new_page()
    seen = {"navigations": 0, "errors": [], "requests": []}
    page.on("framenavigated", lambda frame: seen.__setitem__(
        "navigations", seen["navigations"] + (frame == page.main_frame)))
    page.on("console", lambda message: message.type == "error" and seen["errors"].append(
        message.text))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request", lambda request: seen["requests"].append(request.url))
    async with page.expect_response(lambda response: response.url.endswith("/events")):
        await page.goto(url)
    return context, page, seen


async def test_the_page_of_a_pending_intent_turns_paid_without_a_reload(demo, browser, artifacts):
    intent = await create_intent(demo, "MX", "link", 123_456, description="Tacos al pastor")
    context, page, seen = await open_page(browser, f"{demo.api_url}/pay/{intent['id']}")
    try:
        status = page.locator("#status")
        assert await status.get_attribute("data-state") == "pending"
        assert await status.get_attribute("aria-live") == "polite"
        assert await page.locator("#amount").inner_text() == "$1,234.56"
        assert await page.locator("figure.qr svg").count() == 1
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=artifacts / "pay-page-pending.png", full_page=True)
        await page.evaluate("window.__cobroMarker = 'no reload'")
        navigations = seen["navigations"]

        await settle(demo, "conekta", intent["provider_ref"])
        await page.wait_for_selector('#status[data-state="paid"]', timeout=15_000)

        assert await status.inner_text() == "¡Pago recibido! Gracias."
        assert await page.evaluate("window.__cobroMarker") == "no reload"
        assert seen["navigations"] == navigations
        assert not await page.locator(".how").is_visible()
        await page.screenshot(path=artifacts / "pay-page-paid.png", full_page=True)
        assert seen["errors"] == []  # a CSP violation would be reported here
        assert all(url.startswith(demo.api_url) for url in seen["requests"])
    finally:
        await context.close()


async def test_the_countdown_runs_and_an_unknown_link_shows_a_friendly_page(demo, browser,
                                                                            artifacts):
    intent = await create_intent(demo, "CL", "link", 8_900)
    context, page, _ = await open_page(browser, f"{demo.api_url}/pay/{intent['id']}")
    try:
        assert await page.locator("html").get_attribute("lang") == "es-CL"
        assert await page.locator("#amount").inner_text() == "$8.900"
        first = await page.locator("#countdown").inner_text()
        await page.wait_for_timeout(1_500)  # (wait_for_function evaluates strings: the CSP says no)
        assert await page.locator("#countdown").inner_text() != first
        response = await page.goto(f"{demo.api_url}/pay/pi_unknown")
        assert response is not None
        assert response.status == 404
        assert await page.locator("h1").inner_text() == "No encontramos este cobro"
        await page.screenshot(path=artifacts / "pay-page-not-found.png", full_page=True)
    finally:
        await context.close()
