"""Unit: ProviderHttp retries only what is safe and never reads a lost answer as a failure."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from domain.provider import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from providers.base import CircuitBreaker, CircuitOpen, ProviderHttp, RetryPolicy

Handler = Callable[[httpx.Request], httpx.Response]


async def _no_wait(_: float) -> None:
    return None


def http(handler: Handler, *, breaker: CircuitBreaker | None = None) -> tuple[ProviderHttp, list[str]]:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return handler(request)

    client = httpx.AsyncClient(base_url="https://provider.test", transport=httpx.MockTransport(record))
    return ProviderHttp("p", client, retry=RetryPolicy(attempts=3), breaker=breaker,
                        sleep=_no_wait), seen


def raising(error: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)
    return handler


async def test_a_write_whose_answer_is_lost_is_unknown_even_when_safe_to_retry() -> None:
    provider, seen = http(raising(httpx.ReadTimeout))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.request("POST", "/refunds", idempotent=True)
    assert seen == ["POST"] * 3


async def test_a_non_idempotent_write_is_sent_once() -> None:
    provider, seen = http(raising(httpx.ReadTimeout))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.request("POST", "/payments", idempotent=False)
    assert seen == ["POST"]


async def test_a_read_that_times_out_is_unavailable() -> None:
    provider, seen = http(raising(httpx.ReadTimeout))
    with pytest.raises(ProviderUnavailable):
        await provider.request("GET", "/payments/1", idempotent=True)
    assert len(seen) == 3


async def test_a_query_sent_as_post_can_say_it_is_a_read() -> None:
    provider, _ = http(raising(httpx.ReadTimeout))
    with pytest.raises(ProviderUnavailable):
        await provider.request("POST", "/reports", idempotent=True, write=False)


async def test_a_connection_refused_write_is_unavailable() -> None:
    provider, _ = http(raising(httpx.ConnectError))
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.request("POST", "/refunds", idempotent=True)
    assert not isinstance(caught.value, ProviderOutcomeUnknown)


async def test_a_lost_answer_followed_by_refused_connections_stays_unknown() -> None:
    errors = iter([httpx.ReadTimeout, httpx.ConnectError, httpx.ConnectError])
    provider, _ = http(lambda request: raising(next(errors))(request))
    with pytest.raises(ProviderOutcomeUnknown):
        await provider.request("POST", "/refunds", idempotent=True)


@pytest.mark.parametrize(("status", "error"), [
    (503, ProviderUnavailable), (502, ProviderUnavailable), (429, ProviderUnavailable),
    (500, ProviderOutcomeUnknown), (504, ProviderOutcomeUnknown),
])
async def test_server_errors_on_a_write_by_what_they_mean(status: int, error: type[Exception]) -> None:
    provider, _ = http(lambda request: httpx.Response(status, json={"message": "nope"}))
    with pytest.raises(error):
        await provider.request("POST", "/payments", idempotent=True)


async def test_a_client_error_is_a_rejection_with_the_reason_and_not_retried() -> None:
    provider, seen = http(lambda request: httpx.Response(422, json={"message": "bad amount",
                                                                     "code": "amount"}))
    with pytest.raises(ProviderRejected, match="bad amount") as caught:
        await provider.request("POST", "/payments", idempotent=True)
    assert caught.value.code == "amount"
    assert seen == ["POST"]


async def test_the_circuit_opens_after_repeated_failures_and_lets_one_trial_through_later() -> None:
    now = [0.0]
    breaker = CircuitBreaker("p", threshold=2, reset_after=30, clock=lambda: now[0])
    answers = iter([httpx.Response(503), httpx.Response(503), httpx.Response(200, json={})])
    provider, seen = http(lambda request: next(answers), breaker=breaker)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await provider.request("GET", "/x", idempotent=False)
    with pytest.raises(CircuitOpen):
        await provider.request("GET", "/x", idempotent=False)
    assert len(seen) == 2  # the open circuit sent nothing
    now[0] = 31.0
    await provider.request("GET", "/x", idempotent=False)
    assert breaker.state == "closed"
