"""Screenshots of the key pages at a desktop and a phone width, in English and Dutch.

Against a running demo server (``make run``): home, an open contest, the microtask work
page and the wallet, at 1280 px and 390 px, in en and nl; logged out for home and the
contest, logged in as the demo worker for the work page and the wallet (and home again, to
see the logged-in header). PNGs go to ``--out``; for each shot the script prints whether
the header fits on one row (its height) and whether anything is wider than the window.

    python bench/screenshots.py [--base-url http://127.0.0.1:8000] [--out var/screenshots]

Needs the development tools (Playwright) and Debian's Chromium (``make test`` installs
both).
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
LANGUAGES = ("en", "nl")
WORKER = ("chiara@example.com", "trefpunt-demo")

MEASURE = """() => {
  const header = document.querySelector('.site-header');
  const nav = header.querySelector('nav');
  return {
    header: Math.round(header.getBoundingClientRect().height),
    navOverflow: nav.scrollWidth - nav.clientWidth,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}"""


def first_link(base: str, path: str, pattern: str) -> str:
    """The first link on ``path`` that matches ``pattern`` (a demo object's page)."""
    with urllib.request.urlopen(base + path, timeout=30) as response:
        html = response.read().decode()
    found = re.search(pattern, html)
    if not found:
        raise SystemExit(f"no link like {pattern} on {path}")
    return found.group(0)


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/en/accounts/login/")
    page.locator("input[name=login]").fill(WORKER[0])
    page.locator("input[name=password]").fill(WORKER[1])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def shoot(page: Page, url: str, path: Path) -> dict[str, int]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    return page.evaluate(MEASURE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="var/screenshots")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    contest = first_link(base, "/en/contests/", r"/en/contests/\d+/")
    work = "WORK"  # the batch list needs a login: found once logged in
    pages = {
        "home": ("/en/", False),
        "contest": (contest, False),
        "home-in": ("/en/", True),
        "work": (work, True),
        "wallet": ("/en/wallet/", True),
    }
    problems = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        for width, height in WIDTHS.values():
            for logged_in in (False, True):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                if logged_in:
                    log_in(page, base)
                    page.goto(f"{base}/en/microtasks/")
                    found = re.search(r"/en/microtasks/batches/\d+/", page.content())
                    assert found, "no open batch in the demo"
                    pages["work"] = (found.group(0) + "work/", True)
                for name, (path, needs_login) in pages.items():
                    if needs_login != logged_in:
                        continue
                    for lang in LANGUAGES:
                        url = base + path.replace("/en/", f"/{lang}/", 1)
                        file = out / f"{name}-{lang}-{width}.png"
                        m = shoot(page, url, file)
                        bad = m["navOverflow"] > 0 or m["pageOverflow"] > 0
                        problems += bad
                        print(
                            f"{'!' if bad else ' '} {file.name:<26} header {m['header']:>4} px"
                            f"  nav overflow {m['navOverflow']:>3} px"
                            f"  page overflow {m['pageOverflow']:>3} px"
                        )
                context.close()
        browser.close()
    print(f"{problems} shots with something wider than the window; PNGs in {out}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
