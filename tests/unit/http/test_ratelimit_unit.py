"""The in-process fixed-window limiter (the Redis one is covered over HTTP in e2e)."""

from services.http.ratelimit import MemoryRateLimiter


async def test_the_budget_resets_with_the_next_window_and_is_per_key():
    now = [120.0]
    limiter = MemoryRateLimiter(2, clock=lambda: now[0])
    assert [await limiter.hit("a") for _ in range(3)] == [None, None, 60]
    assert await limiter.hit("b") is None
    now[0] = 150.0
    assert await limiter.hit("a") == 30
    now[0] = 180.0
    assert await limiter.hit("a") is None
