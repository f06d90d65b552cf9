"""The web console in headless Chromium: sign in, see buckets and rules, and a lag chart with data."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.integration.harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FerryCluster
from tests.integration.replication_helpers import exists, make_pair, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BAR = (37, 99, 235)  # the chart's bar colour (console.js BAR_COLOR)


def bar_pixels(png: bytes) -> int:
    """How many pixels of a screenshot have the chart's bar colour."""
    pixels = Image.open(io.BytesIO(png)).convert("RGB").get_flattened_data()
    return sum(
        1 for r, g, b in pixels if abs(r - BAR[0]) < 12 and abs(g - BAR[1]) < 12 and abs(b - BAR[2]) < 12
    )


@pytest.fixture
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs the Debian package `chromium`")
        pytest.skip("install Debian's chromium to run the console test")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="ferry-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def test_console_shows_rules_and_a_lag_chart_with_data(cluster: FerryCluster, browser: object) -> None:
    from playwright.sync_api import BrowserContext, expect

    assert isinstance(browser, BrowserContext)
    pair = make_pair(cluster)
    endpoint = cluster.region().endpoint
    page = browser.new_page()

    page.goto(f"{endpoint}/-/console")
    expect(page.locator("#login")).to_be_visible()
    page.fill("#key-id", ACCESS_KEY_ID)
    page.fill("#key-secret", "not-the-secret")
    page.click("#sign-in")
    expect(page.locator("#login-error")).to_contain_text("wrong secret")
    page.fill("#key-secret", ACCESS_KEY_SECRET)
    page.click("#sign-in")

    section = page.locator(f'section.bucket[data-bucket="{pair.src.bucket_name}"]')
    expect(section).to_be_visible(timeout=10_000)
    expect(page.locator("#login")).to_be_hidden()
    row = section.locator(f'tr[data-rule="{pair.rule_id}"]')
    expect(row).to_contain_text(f"oss-cn-beijing/{pair.dst.bucket_name}")
    chart = section.locator(f'canvas.lag-chart[data-rule="{pair.rule_id}"]')
    expect(chart).to_have_attribute("data-points", "0")
    assert bar_pixels(chart.screenshot()) == 0  # nothing replicated yet: no bars

    keys = [f"chart/{i:02d}" for i in range(20)]
    for key in keys:
        pair.src.put_object(key, b"x" * 4096)
    wait_until(lambda: all(exists(pair.dst, k) for k in keys), what="the replicas")

    # The page refreshes itself: no reload.
    expect(chart).not_to_have_attribute("data-points", "0", timeout=15_000)
    expect(row.locator("td.pending")).to_have_text("0", timeout=15_000)
    expect(row.locator("td.status")).to_have_text("doing", timeout=15_000)
    wait_until(lambda: bar_pixels(chart.screenshot()) > 50, timeout=10, what="bars in the lag chart")
    page.screenshot(path=str(cluster.root / "console.png"), full_page=True)

    # The data needs the session: signed out, the API answers 401 and the page asks to sign in.
    page.click("#sign-out")
    expect(page.locator("#login")).to_be_visible()
    assert page.request.get(f"{endpoint}/-/console/api/overview").status == 401
