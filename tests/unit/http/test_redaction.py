"""Log redaction: PII, tokens and secrets are masked, ids and amounts are kept."""

import logging

import pytest

from services.http.redaction import install_redaction, redact


@pytest.mark.parametrize(("line", "leak"), [
    ("receipt to ana.perez@example.com", "ana.perez@example.com"),
    ("sms to +52 55 1234 5678 failed", "1234 5678"),
    ("sms to +5215512345678", "5215512345678"),
    ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyJzdWIiOiJ4In0"),
    ('config {"api_key": "key_live_123"}', "key_live_123"),
    ("secret=s3cr3t!", "s3cr3t!"),
])
def test_sensitive_values_are_masked(line, leak):
    assert leak not in redact(line)


def test_ids_paths_and_amounts_survive():
    line = "intent pi_01a2 amount 150000 at /collectors/1234567890/pos refund re_9"
    assert redact(line) == line


@pytest.mark.parametrize("line", [
    "webhooks/mercadopago?topic=payment&id=123456789012",
    "provider_ref '98765432101' not found",
    "payu order 1400449615 approved",
])
def test_numeric_provider_ids_are_not_taken_for_phones(line):
    assert redact(line) == line


@pytest.mark.parametrize("phone", ["55 1234 5678", "(55) 1234-5678", "312-555-0199"])
def test_phones_written_with_separators_are_masked(phone):
    assert phone not in redact(f"call {phone} now")


def test_installed_redaction_masks_arguments_and_tracebacks(caplog):
    install_redaction()
    caplog.set_level(logging.INFO)
    try:
        raise ValueError("bad email ana@example.com")
    except ValueError:
        logging.getLogger("cobro.unit").exception("for %s", "luis@example.com")
    record = caplog.records[-1]
    assert "luis@example.com" not in record.getMessage()
    assert "ana@example.com" not in record.exc_text
    assert "[email]" in caplog.text
