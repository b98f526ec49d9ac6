"""Take the README's screenshots from a running app with the demo data (`make run`):

    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

Drives Debian's chromium through Playwright (as the browser tests do), logged in as the demo agent
rahul, and writes docs/img/inbox.png (desktop, a conversation open) and docs/img/inbox-phone.png.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
OUT = Path(__file__).resolve().parent / "img"
CHROMIUM = "/usr/bin/chromium"


def log_in(context):
    page = context.new_page()
    page.goto(f"{BASE}/accounts/login/")
    page.fill("input[name=username]", "rahul")
    page.fill("input[name=password]", "sampark-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        desktop = log_in(browser.new_context(viewport={"width": 1280, "height": 800}))
        desktop.goto(f"{BASE}/inbox/?view=all")
        desktop.locator("#conv-list a, #conv-list [role=option]").first.click()
        desktop.wait_for_selector("#composer")
        desktop.wait_for_timeout(500)
        desktop.screenshot(path=str(OUT / "inbox.png"))
        phone = log_in(browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2))
        phone.goto(f"{BASE}/inbox/?view=all")
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(OUT / "inbox-phone.png"))
        browser.close()
    print(f"wrote {OUT / 'inbox.png'} and {OUT / 'inbox-phone.png'}")  # noqa: T201


if __name__ == "__main__":
    main()
