"""The payment page without a server: amounts per locale, escaping, the CSP, contrast, states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from domain.business import Business
from domain.money import Money
from domain.payment import IntentStatus, PaymentIntent, PaymentMethod
from services.db.repositories import IntentExtras
from services.http.pay_page import (
    PAGE_STATE,
    content_security_policy,
    format_amount,
    render,
    render_page,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script>'


def asset(name: str) -> str:
    return (resources.files("services.http") / "templates" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("minor", "currency", "country", "text"), [
    (123456, "MXN", "MX", "$1,234.56"),
    (123456, "COP", "CO", "$ 1.234,56"),
    (123456, "ARS", "AR", "$ 1.234,56"),
    (1234, "CLP", "CL", "$1.234"),
    (5, "MXN", "MX", "$0.05"),
    (0, "ARS", "AR", "$ 0,00"),
    (99, "COP", "CO", "$ 0,99"),
    (100000, "MXN", "MX", "$1,000.00"),
    (999, "CLP", "CL", "$999"),
    (123456789012345678901, "MXN", "MX", "$1,234,567,890,123,456,789.01"),
    (100000000, "CLP", "CL", "$100.000.000"),
    (-123456, "MXN", "MX", "-$1,234.56"),
])
def test_amounts_are_written_as_each_country_writes_them(minor, currency, country, text):
    assert format_amount(minor, currency, country) == text


def test_an_amount_beyond_float_precision_is_formatted_exactly():
    assert format_amount(9_007_199_254_740_993, "CLP", "CL") == "$9.007.199.254.740.993"


def test_render_escapes_every_value_that_is_not_markup():
    assert render("<p>{{a}}</p>", {"a": EVIL}) == (
        "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>")


def make_page(*, name: str = "Taquería", description: str | None = "2 tacos",
              status: IntentStatus = IntentStatus.PENDING, expires_in: int = 600,
              extras: IntentExtras | None = None, country: str = "MX",
              currency: str = "MXN", amount: int = 12350) -> str:
    business = Business(id="biz_1", name=name, legal_name="L", country=country,
                        currency=currency, provider="conekta", tax_id="T", created_at=NOW)
    intent = PaymentIntent(id="pi_1", business_id="biz_1", amount=Money(amount, currency),
                           method=PaymentMethod.LINK, provider="conekta", status=status,
                           description=description, created_at=NOW - timedelta(seconds=5),
                           expires_at=NOW + timedelta(seconds=expires_in))
    extras = extras or IntentExtras(qr_format="LINK", payment_link="https://pay.example/x?a=1&b=2")
    return render_page(intent, extras, business, NOW)


def test_a_script_in_the_merchant_name_or_description_is_shown_as_text():
    page = make_page(name=EVIL, description=EVIL)
    assert EVIL not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 3  # title, h1, p
    assert len(re.findall(r"<script\b", page)) == 1  # only the page's own


def test_a_javascript_payment_link_is_not_rendered_as_a_button():
    page = make_page(extras=IntentExtras(qr_format="LINK", payment_link="javascript:alert(1)"))
    assert 'class="button"' not in page
    assert "javascript:" not in page


def test_the_page_speaks_the_countrys_language_and_amount():
    page = make_page(country="CO", currency="COP", amount=4_500_000)
    assert '<html lang="es-CO">' in page
    assert '<span id="amount">$ 45.000,00</span>' in page


def test_the_page_carries_an_inline_svg_qr_and_the_escaped_payment_link():
    page = make_page()
    assert '<figure class="qr"><svg xmlns="http://www.w3.org/2000/svg"' in page
    assert 'href="https://pay.example/x?a=1&amp;b=2"' in page


def test_a_clabe_is_shown_as_text_beside_its_qr():
    page = make_page(extras=IntentExtras(qr_format="SPEI", qr_content="646180157000000004"))
    assert "<dt>CLABE</dt><dd>646180157000000004</dd>" in page


@pytest.mark.parametrize(("status", "state"), [
    (IntentStatus.PENDING, "pending"), (IntentStatus.SUCCEEDED, "paid"),
    (IntentStatus.FAILED, "failed"), (IntentStatus.EXPIRED, "expired"),
    (IntentStatus.CANCELED, "canceled"), (IntentStatus.REFUNDED, "paid"),
])
def test_the_status_region_starts_in_the_intents_state(status, state):
    page = make_page(status=status)
    assert f'<main id="pay" data-state="{state}"' in page
    assert 'role="status" aria-live="polite"' in page


def test_a_pending_intent_past_its_expiry_is_shown_expired():
    assert '<main id="pay" data-state="expired"' in make_page(expires_in=-1)


def test_the_countdown_starts_at_the_time_left():
    assert '>10:00</span>' in make_page(expires_in=600)
    assert '>1:00:05</span>' in make_page(expires_in=3605)


def test_the_csp_allows_exactly_the_inline_css_and_js_and_nothing_external():
    policy = content_security_policy()
    assert policy.startswith("default-src 'none';")
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    assert policy.count("'sha256-") == 2
    page = make_page()
    assert f"<style>{asset('pay.css')}</style>" in page
    assert f"<script>{asset('pay.js')}</script>" in page


def test_the_page_references_no_external_asset():
    page = make_page(extras=IntentExtras(qr_format="QR", qr_content="000201010212"))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "url(" not in page


def test_the_browser_and_server_agree_on_what_each_status_shows():
    table = re.search(r"var STATES = \{(.*?)\};", asset("pay.js"), re.S)
    assert table is not None
    in_js = dict(re.findall(r"(\w+): \"(\w+)\"", table.group(1)))
    assert in_js == {str(status): state for status, state in PAGE_STATE.items()}


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("ink", "paper"), [
    ("ink", "paper"), ("muted", "paper"), ("accent-ink", "accent"),
    ("pending-ink", "pending-bg"), ("paid-ink", "paid-bg"), ("failed-ink", "failed-bg"),
    ("expired-ink", "expired-bg"),
])
def test_every_text_colour_pair_has_a_contrast_of_at_least_4_5(ink, paper):
    colours = dict(re.findall(r"--([\w-]+):(#[0-9a-f]{6})", asset("pay.css")))
    assert contrast(colours[ink], colours[paper]) >= 4.5
