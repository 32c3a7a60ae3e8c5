"""PayU's status tables, amount rule and confirmation parsing."""

import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from domain.money import Money
from domain.payment import IntentStatus as S
from domain.provider import EventKind, MalformedWebhook, ProviderRejected
from domain.refund import RefundStatus as R
from providers.payu import mapping
from providers.payu.events import parse_confirmation
from providers.payu.schemas import PayuOrderResponse

pytestmark = pytest.mark.unit
CONTRACTS = Path(__file__).parents[4] / "contracts" / "providers" / "payu"


def load(name: str) -> dict:
    return json.loads((CONTRACTS / name).read_text())


@pytest.mark.parametrize(("state", "status"), [
    ("APPROVED", S.SUCCEEDED), ("DECLINED", S.FAILED), ("ERROR", S.FAILED),
    ("EXPIRED", S.EXPIRED), ("PENDING", S.PENDING), ("SUBMITTED", S.PENDING),
    ("SOMETHING_NEW", S.PENDING), (None, S.PENDING)])
def test_transaction_state_maps_to_intent_status(state, status):
    assert mapping.transaction_status(state) is status


@pytest.mark.parametrize(("raw", "status"), [
    ("NEW", S.PENDING), ("IN_PROGRESS", S.PENDING), ("AUTHORIZED", S.PENDING),
    ("CAPTURED", S.SUCCEEDED), ("CANCELLED", S.CANCELED), ("DECLINED", S.FAILED),
    ("REFUNDED", S.SUCCEEDED), ("CHARGEBACK", S.SUCCEEDED), ("ARCHIVED", S.PENDING)])
def test_order_status_maps_to_intent_status(raw, status):
    assert mapping.order_status(raw) is status


@pytest.mark.parametrize(("state_pol", "status"), [
    ("4", S.SUCCEEDED), ("6", S.FAILED), ("5", S.EXPIRED), ("104", S.FAILED), ("7", S.PENDING),
    ("99", S.PENDING)])
def test_state_pol_maps_to_intent_status(state_pol, status):
    assert mapping.state_pol_status(state_pol) is status


@pytest.mark.parametrize(("state", "status"), [
    ("APPROVED", R.SUCCEEDED), ("DECLINED", R.FAILED), ("ERROR", R.FAILED),
    ("PENDING", R.PENDING), ("SUBMITTED", R.PENDING), ("UNHEARD_OF", R.PENDING)])
def test_refund_state_maps_to_refund_status(state, status):
    assert mapping.refund_status(state) is status


def test_every_table_row_is_exercised():
    assert set(mapping.TRANSACTION_STATE) == {"APPROVED", "DECLINED", "ERROR", "EXPIRED",
                                              "PENDING", "SUBMITTED"}
    assert len(mapping.ORDER_STATUS) == 8
    assert len(mapping.STATE_POL) == 5
    assert len(mapping.REFUND_STATE) == 5


def test_whole_pesos_travel_as_an_integer_string():
    assert mapping.pesos(Money(6_500_000, "COP")) == "65000"


def test_an_amount_with_centavos_is_refused():
    with pytest.raises(ProviderRejected, match="decimals"):
        mapping.pesos(Money(6_500_050, "COP"))


def test_partial_refunds_add_up_in_the_refunded_amount():
    order = msgspec.json.decode(
        json.dumps(load("order_detail_card_partially_refunded.json")), type=PayuOrderResponse
    ).result.payload
    confirmation = mapping.confirmation(order)
    assert confirmation.status is S.SUCCEEDED
    assert confirmation.paid_amount == Money(6_500_000, "COP")
    assert confirmation.refunded_amount == Money(2_000_000, "COP")


def test_an_approved_confirmation_parses_to_a_succeeded_payment_event():
    event = parse_confirmation(load("webhook_approved.json")["body"].encode())
    assert event.provider == "payu"
    assert event.kind is EventKind.PAYMENT
    assert event.status is S.SUCCEEDED
    assert event.paid_amount == Money(6_500_000, "COP")
    assert event.intent_id == "pi_0193a1b2c3d4e5f60718293a4b5c"
    assert event.provider_ref == "1400449959"
    assert event.event_id == "4d49e544-e23f-474e-92b1-59357e0e85e8:4"
    assert event.occurred_at == datetime(2024, 5, 27, 18, 7, 35, tzinfo=UTC)


@pytest.mark.parametrize(("name", "status"), [("webhook_declined.json", S.FAILED),
                                              ("webhook_expired.json", S.EXPIRED)])
def test_final_confirmations_parse_without_a_paid_amount(name, status):
    event = parse_confirmation(load(name)["body"].encode())
    assert event.status is status
    assert event.paid_amount is None
    assert event.raw_type == f"state_pol={(status is S.FAILED and '6') or '5'}"


def test_a_redelivered_confirmation_keeps_its_event_id():
    body = load("webhook_approved.json")["body"]
    redelivered = body.replace("attempts=1", "attempts=2")
    assert parse_confirmation(body.encode()).event_id == \
        parse_confirmation(redelivered.encode()).event_id


def test_a_confirmation_without_a_transaction_id_is_malformed():
    body = load("webhook_approved.json")["body"].replace("transaction_id=", "tx=")
    with pytest.raises(MalformedWebhook):
        parse_confirmation(body.encode())
