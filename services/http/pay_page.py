"""The hosted payment page, ``GET /pay/{id}``: what the payer sees when opening a payment link.

Merchant, amount in the country's own notation, the QR as inline SVG, the provider's payment
button, an expiry countdown and the live status (``/pay/{id}/events``, no reload). The page
needs nothing from outside: CSS and JS are inline and allowed by their SHA-256 in a strict
Content-Security-Policy, so it works offline and injected markup could not run anyway.

Every value goes through :func:`render`, which escapes it, except :class:`Markup` fragments
that this module builds itself from escaped parts. The intent id is the capability (80 random
bits): the page shows no customer data.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import NamedTuple

import segno
from litestar import MediaType, Response, get

from domain.business import Business
from domain.money import exponent
from domain.payment import IntentStatus, PaymentIntent
from services.bootstrap import Deps
from services.db.repositories import IntentExtras
from services.http.params import DepsParam, PathId


class Locale(NamedTuple):
    lang: str
    symbol: str
    group: str
    decimal: str


# CLDR's notation for each country's peso: es-MX $1,234.56 · es-CO $ 1.234,56 ·
# es-AR $ 1.234,56 · es-CL $1.234 (CLP has no minor unit).
LOCALES: dict[str, Locale] = {
    "MX": Locale("es-MX", "$", ",", "."),
    "CO": Locale("es-CO", "$ ", ".", ","),
    "AR": Locale("es-AR", "$ ", ".", ","),
    "CL": Locale("es-CL", "$", ".", ","),
}
PROVIDER_NAMES = {"conekta": "Conekta", "payu": "PayU", "mercadopago": "Mercado Pago",
                  "khipu": "Khipu"}
CURRENCY_NAMES = {"MXN": "pesos mexicanos", "COP": "pesos colombianos",
                  "ARS": "pesos argentinos", "CLP": "pesos chilenos"}

# Intent status → what the payer sees (pay.js holds the same table).
PAGE_STATE: dict[IntentStatus, str] = {
    IntentStatus.PENDING: "pending", IntentStatus.SUCCEEDED: "paid",
    IntentStatus.PARTIALLY_REFUNDED: "paid", IntentStatus.REFUNDED: "paid",
    IntentStatus.REQUIRES_REVIEW: "review", IntentStatus.FAILED: "failed",
    IntentStatus.EXPIRED: "expired", IntentStatus.CANCELED: "canceled",
}
STATE_TEXT = {
    "pending": "Esperando tu pago.",
    "paid": "¡Pago recibido! Gracias.",
    "review": "Recibimos tu pago; el comercio lo está revisando.",
    "failed": "El pago no se completó. Puedes intentarlo de nuevo con otro cobro.",
    "expired": "Este cobro venció. Pide uno nuevo al comercio.",
    "canceled": "El comercio canceló este cobro.",
}
_HOW = {  # QR format → (heading, label of the reference shown as text, or None)
    "SPEI": ("Paga con una transferencia SPEI", "CLABE"),
    "CASH": ("Paga en efectivo en una tienda", "Referencia de pago"),
    "PSE": ("Paga desde tu banco con PSE", None),
    "QR": ("Escanea el código con tu app de pagos", None),
    "LINK": ("Escanea el código o usa el botón", None),
}


def format_amount(minor: int, currency: str, country: str) -> str:
    """``minor`` units as the country writes them (``es-CO``: ``$ 1.234,56``); exact, no floats."""
    locale = LOCALES.get(country, LOCALES["MX"])
    digits = exponent(currency)
    units, fraction = divmod(abs(minor), 10**digits)
    whole = str(units)
    groups = [whole[max(0, end - 3):end] for end in range(len(whole), 0, -3)][::-1]
    text = locale.group.join(groups)
    if digits:
        text += locale.decimal + str(fraction).zfill(digits)
    return f"{'-' if minor < 0 else ''}{locale.symbol}{text}"


class Markup(str):
    """HTML this module built from escaped parts; :func:`render` inserts it as is."""


_FIELD = re.compile(r"\{\{(\w+)\}\}")


def render(template: str, values: dict[str, object]) -> str:
    """Fill ``{{name}}`` fields; everything but :class:`Markup` is HTML-escaped."""

    def field(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return value if isinstance(value, Markup) else html.escape(str(value), quote=True)

    return _FIELD.sub(field, template)


@cache
def _asset(name: str) -> str:
    return (resources.files("services.http") / "templates" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def content_security_policy(with_script: bool = True) -> str:
    """Only this page's own inline CSS and JS run; the only connection is its status stream."""
    script = _sha256(_asset("pay.js")) if with_script else "'none'"
    return (f"default-src 'none'; style-src {_sha256(_asset('pay.css'))}; script-src {script}; "
            "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def _headers(with_script: bool) -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(with_script),
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def page_state(intent: PaymentIntent, now: datetime) -> str:
    state = PAGE_STATE[intent.status]
    return "expired" if state == "pending" and intent.expires_at <= now else state


def qr_svg(content: str) -> Markup:
    """The QR as inline SVG, sized by CSS (segno writes only escaped, static attributes)."""
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="svg", scale=1, border=2, xmldecl=False,
                                        svgns=True, omitsize=True, svgclass=None,
                                        lineclass=None, title="Código QR del cobro")
    return Markup(buffer.getvalue().decode())


def _safe_link(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _fragments(extras: IntentExtras) -> dict[str, object]:
    fmt = extras.qr_format or ("LINK" if extras.payment_link else "QR")
    heading, reference_label = _HOW.get(fmt, _HOW["QR"])
    content = extras.qr_content or extras.payment_link
    link = _safe_link(extras.payment_link)
    qr = Markup(f'<figure class="qr">{qr_svg(content)}<figcaption>Escanea para pagar'
                "</figcaption></figure>") if content else Markup("")
    reference = Markup("")
    if reference_label and extras.qr_content:
        reference = Markup(f'<dl class="reference"><dt>{html.escape(reference_label)}</dt>'
                           f"<dd>{html.escape(extras.qr_content)}</dd></dl>")
    button = Markup(f'<a class="button" href="{html.escape(link, quote=True)}" rel="noopener">'
                    "Ir a pagar</a>") if link else Markup("")
    return {"how_title": heading, "qr_html": qr, "reference_html": reference, "link_html": button}


def _countdown(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_page(intent: PaymentIntent, extras: IntentExtras, business: Business,
                now: datetime) -> str:
    """The page's HTML for this intent at ``now``."""
    locale = LOCALES.get(business.country, LOCALES["MX"])
    state = page_state(intent, now)
    expires_in = max(0, int((intent.expires_at - now).total_seconds()))
    description = Markup(f'<p class="description">{html.escape(intent.description)}</p>'
                         if intent.description else "")
    texts = Markup(" ".join(f'data-text-{name}="{html.escape(text, quote=True)}"'
                            for name, text in STATE_TEXT.items()))
    return render(_asset("pay.html"), {
        "lang": locale.lang, "merchant": business.name, "css": Markup(_asset("pay.css")),
        "js": Markup(_asset("pay.js")), "state": state, "events_url": f"/pay/{intent.id}/events",
        "expires_in": expires_in, "countdown": _countdown(expires_in),
        "amount": format_amount(intent.amount.minor, intent.amount.currency, business.country),
        "currency": intent.amount.currency,
        "currency_name": CURRENCY_NAMES.get(intent.amount.currency, intent.amount.currency),
        "description_html": description, "state_texts": texts, "status_text": STATE_TEXT[state],
        "provider": PROVIDER_NAMES.get(intent.provider, intent.provider), **_fragments(extras),
    })


async def _load(intent_id: str, deps: Deps
                ) -> tuple[PaymentIntent, IntentExtras, Business] | None:
    async with deps.uow() as uow:
        found = await uow.intents.get_with_extras(intent_id)
        business = await uow.businesses.get(found[0].business_id) if found else None
    return (found[0], found[1], business) if found and business else None


@get("/pay/{intent_id:str}", media_type=MediaType.HTML, tags=["Payment page"],
     operation_id="PaymentPage")
async def payment_page(intent_id: PathId, deps: DepsParam) -> Response[str]:
    """The payer's page (no token: the intent id is unguessable); 404 page when unknown."""
    loaded = await _load(intent_id, deps)
    if loaded is None:
        body = render(_asset("pay_404.html"), {"css": Markup(_asset("pay.css"))})
        return Response(body, status_code=404, media_type=MediaType.HTML,
                        headers=_headers(with_script=False))
    return Response(render_page(*loaded, now=deps.clock()), media_type=MediaType.HTML,
                    headers=_headers(with_script=True))
