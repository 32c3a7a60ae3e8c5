"""contracts/openapi.json is exactly what the app generates (regenerate: cobro openapi)."""

from pathlib import Path

from services.http.openapi import openapi_json

CONTRACT = Path(__file__).parents[3] / "contracts" / "openapi.json"


def test_the_checked_in_openapi_document_matches_the_app():
    assert CONTRACT.read_text() == openapi_json(), (
        "contracts/openapi.json is stale: run `cobro openapi > contracts/openapi.json`")


def test_the_document_lists_the_v1_payment_routes():
    paths = openapi_json()
    for path in ("/v1/payment-intents", "/v1/payment-intents/{intent_id}/refunds",
                 "/v1/refunds/{refund_id}/complete", "/health/ready"):
        assert f'"{path}"' in paths
