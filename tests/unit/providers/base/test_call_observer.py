"""The provider-call observer hook of ProviderHttp: what it is told, and that it cannot hurt."""

import httpx
import pytest
import respx

from domain.provider import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from providers.base import CircuitBreaker, ProviderHttp, RetryPolicy, add_call_observer

pytestmark = pytest.mark.unit

BASE = "https://provider.test"


@pytest.fixture
def seen():
    calls: list[tuple[str, str, float]] = []
    remove = add_call_observer(lambda *call: calls.append(call))
    yield calls
    remove()


async def _no_sleep(_: float) -> None:
    return None


def _http(**kwargs) -> ProviderHttp:
    return ProviderHttp("acme", httpx.AsyncClient(base_url=BASE), sleep=_no_sleep,
                        retry=RetryPolicy(attempts=2), **kwargs)


@respx.mock
async def test_a_successful_call_is_reported_as_ok_with_its_duration(seen):
    respx.get(f"{BASE}/p/1").respond(200, json={})
    await _http().request("GET", "/p/1", idempotent=True)
    assert [(p, o) for p, o, _ in seen] == [("acme", "ok")]
    assert seen[0][2] >= 0


@respx.mock
async def test_each_retried_attempt_is_reported(seen):
    respx.get(f"{BASE}/p/1").respond(503, json={"message": "busy"})
    with pytest.raises(ProviderUnavailable):
        await _http().request("GET", "/p/1", idempotent=True)
    assert [o for _, o, _ in seen] == ["unavailable", "unavailable"]


@respx.mock
async def test_a_rejection_and_an_unknown_outcome_are_told_apart(seen):
    respx.post(f"{BASE}/bad").respond(422, json={"message": "no"})
    respx.post(f"{BASE}/lost").mock(side_effect=httpx.ReadTimeout("slow"))
    http = _http()
    with pytest.raises(ProviderRejected):
        await http.request("POST", "/bad", idempotent=False)
    with pytest.raises(ProviderOutcomeUnknown):
        await http.request("POST", "/lost", idempotent=False)
    assert [o for _, o, _ in seen] == ["rejected", "unknown"]


@respx.mock
async def test_an_open_circuit_is_reported_as_such(seen):
    respx.get(f"{BASE}/p/1").respond(200, json={})
    http = _http(breaker=CircuitBreaker("acme", threshold=1))
    http.breaker.record_failure()
    with pytest.raises(ProviderUnavailable):
        await http.request("GET", "/p/1", idempotent=True)
    assert [o for _, o, _ in seen] == ["circuit_open"]


@respx.mock
async def test_a_failing_observer_does_not_fail_the_call(seen):
    def broken(*_: object) -> None:
        raise RuntimeError("observer bug")

    remove = add_call_observer(broken)
    respx.get(f"{BASE}/p/1").respond(200, json={"ok": True})
    try:
        response = await _http().request("GET", "/p/1", idempotent=True)
    finally:
        remove()
    assert response.json() == {"ok": True}
    assert [o for _, o, _ in seen] == ["ok"]


@respx.mock
async def test_a_removed_observer_hears_nothing_more():
    calls: list[object] = []
    remove = add_call_observer(lambda *call: calls.append(call))
    remove()
    respx.get(f"{BASE}/p/1").respond(200, json={})
    await _http().request("GET", "/p/1", idempotent=True)
    assert calls == []
