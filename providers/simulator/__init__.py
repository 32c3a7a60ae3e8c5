"""The provider simulator: every provider's API subset on one port, under its own prefix.

Pointing ``COBRO_<PROVIDER>_BASE_URL`` at ``http://host:port/<provider>`` is the only change an
adapter sees. The control API under ``/_simulator`` settles payments (which sends the
provider's webhook, signed as the provider signs it) and sets run-time knobs for latency,
errors, timeouts and duplicate or out-of-order delivery.
"""

from providers.simulator.core import Delivery, Knobs, SimPayment, SimRefund, SimulatedFailure, Simulator

__all__ = ["Delivery", "Knobs", "SimPayment", "SimRefund", "SimulatedFailure", "Simulator"]
