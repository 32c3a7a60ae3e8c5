"""A newcomer's click path in the demo, in headless Chromium: "Ir a pagar" on the payment page
opens the simulator's checkout (not the provider's unreachable site), "Pagar" settles it, and
the link back shows the payment page paid."""

from __future__ import annotations

import pytest

from tests.e2e.demo.conftest import create_intent

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 360, "height": 740}


async def test_ir_a_pagar_then_pagar_in_the_simulator_leaves_the_payment_page_paid(
        demo, browser, artifacts):
    intent = await create_intent(demo, "MX", "link", 12_350, description="Tacos")
    context = await browser.new_context(viewport=PHONE, locale="es-MX")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(f"{demo.api_url}/pay/{intent['id']}")
        await page.get_by_role("link", name="Ir a pagar").click()
        await page.wait_for_url(f"{demo.sim_url}/_simulator/checkout/conekta/**")
        assert await page.locator("h1").inner_text() == "Simulador de Conekta"
        assert "123.50 MXN" in await page.locator(".amount").inner_text()
        await page.screenshot(path=artifacts / "simulator-checkout.png", full_page=True)

        await page.get_by_role("button", name="Pagar").click()
        await page.wait_for_selector("text=Pago simulado")
        await page.get_by_role("link", name="Volver a la página del comercio").click()
        await page.wait_for_url(f"{demo.api_url}/pay/{intent['id']}")
        await page.wait_for_selector('#status[data-state="paid"]', timeout=15_000)
        assert errors == []
    finally:
        await context.close()
