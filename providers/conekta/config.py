"""Settings of the Conekta adapter (read from ``COBRO_CONEKTA_*``).

Conekta signs webhooks with an RSA key pair it keeps (``POST /webhook_keys`` hands out the
public half), so Cobro holds only ``webhook_public_key``. The simulator plays Conekta and so
needs the private half: ``simulator_private_key`` is read by ``providers/simulator/conekta.py``
alone and stays empty in production.
"""

from __future__ import annotations

import msgspec


class ConektaConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Conekta settings.

    Attributes:
        api_key: the private API key (``key_…``) of the mode in use (test or live).
        webhook_public_key: PEM public key(s) from ``POST /webhook_keys``; several PEM blocks
            may be concatenated during a key rotation, any of them may verify.
        base_url: the API root.
        timeout: seconds to wait for an answer.
        api_version: the version pinned in the ``Accept`` media type.
        language: ``Accept-Language`` of Conekta's error messages.
        default_customer_name / _email / _phone: Conekta requires all three in
            ``customer_info``; used when the intent carries no customer.
        simulator_private_key: PEM private key the simulator signs webhooks with.
    """

    api_key: str
    webhook_public_key: str
    base_url: str = "https://api.conekta.io"
    timeout: float = 10.0
    api_version: str = "2.2.0"
    language: str = "es"
    default_customer_name: str = "Cliente Cobro"
    default_customer_email: str = "pagos@cobro.example"
    default_customer_phone: str = "+525500000000"
    simulator_private_key: str = ""
