"""The simulator's hosted checkout: the page a payment link opens when the simulator runs with
``checkout_base_url`` (``cobro demo``), so a newcomer can pay without the provider's real site.

``GET /_simulator/checkout/{provider}/{ref}`` (``ref``: the simulator's payment ref or the
merchant reference) shows the amount, the merchant reference and three buttons — Pagar,
Rechazar, Dejar vencer — in one plain HTML form that POSTs ``outcome`` to the same path. The
POST settles the payment through :func:`settle`, the control API's own path, so the provider's
webhook reaches Cobro, and answers with a confirmation and a link back to the merchant's page
when the provider was given one. No JavaScript and no external assets: inline CSS only, every
value escaped, and a Content-Security-Policy that allows nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from string import Template
from typing import Any, Protocol

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath

from domain.errors import MoneyError
from domain.money import exponent
from providers.simulator.core import Delivery, SimPayment, Simulator

OUTCOMES = {"paid": "pagado", "failed": "rechazado", "expired": "vencido"}
DISPLAY_NAMES = {"conekta": "Conekta", "payu": "PayU", "mercadopago": "Mercado Pago",
                 "khipu": "Khipu"}
HEADERS = {"cache-control": "no-store",
           "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "form-action 'self'; base-uri 'none'"}

PAGE = Template("""<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body{margin:0;font:1rem/1.5 system-ui,sans-serif;background:#f4f4f6;color:#1b1b1f}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.75rem;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.35rem;margin:0 0 .5rem}
.notice{background:#fff4cc;border:1px solid #8a6d00;padding:.5rem .75rem;border-radius:.5rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.amount{font-size:1.5rem;font-weight:700}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}
button{font:inherit;padding:.6rem 1.1rem;border-radius:.5rem;border:2px solid #1b1b1f;
cursor:pointer;background:#fff;color:#1b1b1f}
button[value=paid]{background:#0b6b2f;border-color:#0b6b2f;color:#fff}
button:focus-visible,a:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
a{color:#1a56db}
</style>
</head>
<body>
<main>
<h1>$title</h1>
<p class="notice" role="note">Esto es un simulador: no se cobra dinero real.</p>
$content
</main>
</body>
</html>
""")

FORM = Template("""<dl>
<dt>Monto</dt><dd class="amount">$amount</dd>
<dt>Referencia</dt><dd>$reference</dd>
<dt>Estado</dt><dd>$status</dd>
</dl>
<form method="post" action="$action" aria-label="Resultado del pago simulado">
<div class="actions">
<button type="submit" name="outcome" value="paid">Pagar</button>
<button type="submit" name="outcome" value="failed">Rechazar</button>
<button type="submit" name="outcome" value="expired">Dejar vencer</button>
</div>
</form>
""")


class Settles(Protocol):
    """What :func:`settle` needs of a simulated provider."""

    def settle(self, payment: SimPayment, outcome: str,
               paid_amount: int | None) -> list[Delivery]: ...


def settle(sim: Simulator, handler: Settles, provider: str, payment: SimPayment,
           outcome: str, paid_amount: int | None = None) -> int:
    """Settle ``payment`` as the provider would and send its webhooks in the background.

    Args:
        sim: The simulator, which delivers the webhooks.
        handler: The provider's simulator module object.
        provider: The provider's name (where the webhooks go: ``/webhooks/<provider>``).
        payment: The payment to settle.
        outcome: ``paid``, ``failed`` or ``expired``.
        paid_amount: Minor units actually paid, when not the payment's amount.

    Returns:
        How many webhooks were queued.
    """
    deliveries = handler.settle(payment, outcome, paid_amount)
    sim.deliver(provider, deliveries)
    return len(deliveries)


def format_amount(minor: int, currency: str) -> str:
    """``12350, "MXN"`` → ``"123.50 MXN"``; ``8900, "CLP"`` → ``"8,900 CLP"``."""
    try:
        places = exponent(currency)
    except MoneyError:
        places = 2  # an unknown currency still shows something readable
    return f"{Decimal(minor).scaleb(-places):,.{places}f} {currency}"


def return_url(payment: SimPayment) -> str | None:
    """Where the provider was told to send the payer back, if anywhere (http(s) only)."""
    data = payment.data
    checkout = (data.get("order") or {}).get("checkout") or {}  # Conekta
    wire = data.get("payment") or {}  # Khipu
    url = data.get("return_url") or checkout.get("success_url") or wire.get("return_url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url
    return None


def _html(title: str, content: str, status: int = 200) -> Response[str]:
    page = PAGE.substitute(title=escape(title), content=content)
    return Response(page, status_code=status, media_type="text/html", headers=HEADERS)


def _title(provider: str) -> str:
    return f"Simulador de {DISPLAY_NAMES.get(provider, provider)}"


def _not_found(provider: str, ref: str) -> Response[str]:
    content = (f"<p>No hay ningún pago <strong>{escape(ref)}</strong> en el simulador de "
               f"{escape(DISPLAY_NAMES.get(provider, provider))}.</p>")
    return _html("Pago no encontrado", content, 404)


def _lookup(state: State, provider: str, ref: str) -> tuple[Settles, SimPayment] | None:
    sims: dict[str, Settles] = state.sims
    sim: Simulator = state.sim
    payment = sim.state(provider).find(ref) if provider in sims else None
    return (sims[provider], payment) if payment is not None else None


def _form_page(request: Request[Any, Any, Any], provider: str,
               payment: SimPayment) -> Response[str]:
    content = FORM.substitute(
        amount=escape(format_amount(payment.amount, payment.currency)),
        reference=escape(payment.merchant_ref), status=escape(payment.status),
        action=escape(request.url.path))
    return _html(_title(provider), content)


def _done_page(provider: str, payment: SimPayment, outcome: str) -> Response[str]:
    content = (f'<p role="status">Pago simulado: <strong>{OUTCOMES[outcome]}</strong>. '
               "Ya puedes volver a la página del comercio.</p>"
               f"<p>{escape(format_amount(payment.amount, payment.currency))} · "
               f"{escape(payment.merchant_ref)}</p>")
    back = return_url(payment)
    if back is not None:
        content += f'<p><a href="{escape(back)}">Volver a la página del comercio</a></p>'
    return _html(_title(provider), content)


@get("/checkout/{provider:str}/{ref:str}")
async def checkout_page(request: Request[Any, Any, Any], state: State,
                        provider: FromPath[str], ref: FromPath[str]) -> Response[str]:
    """The hosted checkout page of one simulated payment (404 page when unknown)."""
    found = _lookup(state, provider, ref)
    if found is None:
        return _not_found(provider, ref)
    return _form_page(request, provider, found[1])


@post("/checkout/{provider:str}/{ref:str}", status_code=200)
async def checkout_submit(request: Request[Any, Any, Any], state: State,
                          provider: FromPath[str], ref: FromPath[str]) -> Response[str]:
    """Settle from the page's form (``outcome`` field) and confirm it to the payer."""
    found = _lookup(state, provider, ref)
    if found is None:
        return _not_found(provider, ref)
    handler, payment = found
    outcome = str((await request.form()).get("outcome", ""))
    if outcome not in OUTCOMES:
        return _html(_title(provider), "<p>Elige Pagar, Rechazar o Dejar vencer.</p>", 400)
    settle(state.sim, handler, provider, payment, outcome)
    return _done_page(provider, payment, outcome)


ROUTES = [checkout_page, checkout_submit]
