"""PayU Latam (Colombia) settings, read from ``COBRO_PAYU_*``.

``base_url`` is the API host: the Payments API lives at ``/payments-api/4.0/service.cgi`` and
the Queries API at ``/reports-api/4.0/service.cgi`` under it, exactly as on
``https://api.payulatam.com``. WebCheckout (the hosted page behind the ``link`` and
``bank_transfer`` methods) is on another host; ``checkout_url`` left empty derives it from
``base_url`` (the real production/sandbox checkout for PayU's hosts, ``<base_url>/ppp-web-
gateway-payu/`` otherwise), so pointing ``COBRO_PAYU_BASE_URL`` at the simulator is the only
change needed.
"""

from __future__ import annotations

import msgspec

from providers.base import Secret

PRODUCTION_API = "https://api.payulatam.com"
SANDBOX_API = "https://sandbox.api.payulatam.com"
_CHECKOUT_FOR_API = {
    PRODUCTION_API: "https://checkout.payulatam.com/ppp-web-gateway-payu/",
    SANDBOX_API: "https://sandbox.checkout.payulatam.com/ppp-web-gateway-payu/",
}


class PayuConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Credentials from PayU's module (Settings → Technical configuration)."""

    api_login: str
    api_key: str  # also the secret of every signature PayU computes or checks
    merchant_id: str
    account_id: str  # the Colombia account of the merchant (sandbox: 512321)
    base_url: str = PRODUCTION_API
    checkout_url: str = ""  # empty: derived from base_url (see the module docstring)
    test: bool = False  # PayU's ``test`` flag on every request
    language: str = "es"  # language of PayU's error messages and payer emails
    cash_method: str = "EFECTY"  # or OTHERS_CASH ("Su Red"), BANK_REFERENCED
    # PayU's cash API requires the payer's IP, which a server-side create does not know;
    # the documentation's own examples send a placeholder, and so do we unless configured.
    payer_ip: str = "127.0.0.1"
    timeout: float = 10.0

    @property
    def api_key_secret(self) -> Secret:
        return Secret(self.api_key)

    @property
    def api_login_secret(self) -> Secret:
        return Secret(self.api_login)

    @property
    def checkout(self) -> str:
        """The WebCheckout form action."""
        if self.checkout_url:
            return self.checkout_url
        base = self.base_url.rstrip("/")
        return _CHECKOUT_FOR_API.get(base, f"{base}/ppp-web-gateway-payu/")
