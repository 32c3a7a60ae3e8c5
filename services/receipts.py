"""The customer's receipt as HTML (escaped throughout; no template engine needed).

PDF is not rendered: no small, well-kept pure-Python PDF library is among Cobro's
dependencies, and a browser prints this HTML to PDF faithfully.
"""

from __future__ import annotations

from html import escape

from domain.money import Money
from services.fiscal import FiscalDocument, FiscalStamp

_TITLES = {"invoice": "Factura / Invoice", "credit_note": "Nota de crédito / Credit note"}


def render_receipt(document: FiscalDocument, stamp: FiscalStamp, *, business_name: str,
                   description: str | None, refers_to: str | None = None) -> str:
    """Render a self-contained HTML receipt of an issued document."""
    money = lambda minor: escape(Money(minor, document.currency).format())  # noqa: E731
    rate = f"{document.vat_basis_points / 100:g} %"
    rows = [
        ("Número", stamp.number_text), ("Folio fiscal", stamp.fiscal_ref),
        ("Emisor", f"{document.seller_legal_name} ({document.seller_tax_id})"),
        ("Fecha", document.issued_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Pago", document.intent_id), ("Concepto", description or business_name),
    ]
    if refers_to:
        rows.append(("Factura de origen", refers_to))
    details = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return (
        "<!doctype html><html lang=\"es\"><meta charset=\"utf-8\">"
        f"<title>{escape(stamp.number_text)}</title>"
        "<style>body{font-family:sans-serif;max-width:36em;margin:2em auto}"
        "th{text-align:left;padding-right:1em}td.n{text-align:right}</style>"
        f"<h1>{escape(business_name)}</h1><h2>{_TITLES[document.kind]}</h2>"
        f"<table>{details}</table><hr><table>"
        f"<tr><th>Neto</th><td class=n>{money(document.net)}</td></tr>"
        f"<tr><th>IVA {rate}</th><td class=n>{money(document.tax)}</td></tr>"
        f"<tr><th>Total</th><td class=n><strong>{money(document.total)}</strong></td></tr>"
        "</table></html>"
    )
