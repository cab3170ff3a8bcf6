"""Lighthouse over the key pages, in English and Dutch, logged out and logged in.

Lighthouse is pinned in ``bench/lighthouse/`` (``npm ci`` there once); it drives Debian's
Chromium. Against a running demo server (``make run``). Thresholds: accessibility, best
practices and SEO 100, performance 95; prints one line per page and language and exits
non-zero when any page is below. A page that says noindex on purpose (logged-in pages,
search results) is not counted down for it.

    (cd bench/lighthouse && npm ci)
    python bench/lighthouse.py [--base-url http://127.0.0.1:8000] [--only home,wallet]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "trefpunt-demo"
WORKER = "chiara@example.com"
CLIENT = "hendrik@example.com"
THRESHOLDS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}


class Site:
    """The demo server: pages found by their links, sessions by logging in."""

    def __init__(self, base: str) -> None:
        self.base = base

    def html(self, path: str, opener: urllib.request.OpenerDirector | None = None) -> str:
        opener = opener or urllib.request.build_opener()
        with opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def link(
        self, path: str, pattern: str, opener: urllib.request.OpenerDirector | None = None
    ) -> str:
        found = re.search(pattern, self.html(path, opener))
        if not found:
            raise SystemExit(f"no link like {pattern} on {path}")
        return found.group(0)

    def session(self, email: str) -> tuple[urllib.request.OpenerDirector, str]:
        """Log in through the form; return an opener with the session and its Cookie header."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = self.html("/en/accounts/login/", opener)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "login": email, "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(
            self.base + "/en/accounts/login/", data=data, headers={"Referer": self.base + "/"}
        )
        opener.open(request, timeout=60).read()
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        assert "sessionid=" in cookie, f"could not log in as {email}"
        return opener, cookie


def pages(site: Site) -> dict[str, tuple[str, str | None]]:
    """name -> (English path, who is logged in)."""
    worker, worker_cookie = site.session(WORKER)
    client, client_cookie = site.session(CLIENT)
    handle = site.link("/en/people/", r"/en/@[\w.-]+/")
    batch = site.link("/en/microtasks/", r"/en/microtasks/batches/\d+/", worker)
    dashboard = site.html("/en/contests/dashboard/", client)
    judging = re.search(r"/en/contests/(\d+)/judge/", dashboard)
    found = {
        "home": ("/en/", None),
        "contests": ("/en/contests/", None),
        "contest": (site.link("/en/contests/", r"/en/contests/\d+/"), None),
        "ideas": ("/en/ideas/", None),
        "idea-call": (site.link("/en/ideas/", r"/en/ideas/calls/\d+/"), None),
        "microtasks": ("/en/microtasks/", WORKER),
        "batch": (batch, WORKER),
        "work": (batch + "work/", WORKER),
        "projects": ("/en/projects/", None),
        "job": (site.link("/en/projects/", r"/en/projects/jobs/\d+/"), None),
        "search": ("/en/search/?q=logo", None),
        "profile": (handle, None),
        "wallet": ("/en/wallet/", WORKER),
    }
    if judging:
        found["judging"] = (judging.group(0), CLIENT)
    site.cookies = {WORKER: worker_cookie, CLIENT: client_cookie}  # type: ignore[attr-defined]
    return found


def lighthouse(url: str, cookie: str | None) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            "--only-categories=performance,accessibility,best-practices,seo",
            "--chrome-flags=--headless=new --no-sandbox",
            "--preset=desktop",
        ]
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        env = {**os.environ, "CHROME_PATH": CHROMIUM}
        subprocess.run(command, env=env, check=False, timeout=300)
        if not report.exists():
            return {}
        data = json.loads(report.read_text())
    if data.get("runtimeError"):
        error = data["runtimeError"]
        print("   ", error.get("code"), error.get("message", "")[:120])
    audits = data.get("audits", {})
    for key, category in data.get("categories", {}).items():
        failing = [
            ref["id"]
            for ref in category.get("auditRefs", [])
            if ref.get("weight") and (audits.get(ref["id"], {}).get("score") or 0) < 1
        ]
        if key == "seo" and failing == ["is-crawlable"]:
            # noindex on purpose (logged-in pages, search results): not an SEO fault
            print("    seo: noindex on purpose (is-crawlable not counted)")
            category["score"] = 1
            continue
        if failing and key != "performance":
            print(f"    {key}: {', '.join(failing)}")
            for audit_id in failing:
                for item in audits[audit_id].get("details", {}).get("items", [])[:4]:
                    node = item.get("node", {})
                    if node:
                        print(f"      {audit_id}: {node.get('snippet', '')[:110]}")
    return {
        key: round((category.get("score") or 0) * 100)
        for key, category in data.get("categories", {}).items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--languages", default="en,nl")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: (cd bench/lighthouse && npm ci)")
    site = Site(args.base_url.rstrip("/"))
    wanted = {name for name in args.only.split(",") if name}
    failed = 0
    print(f"load average {os.getloadavg()[0]:.1f}")
    for name, (path, who) in pages(site).items():
        if wanted and name not in wanted:
            continue
        for lang in args.languages.split(","):
            url = site.base + path.replace("/en/", f"/{lang}/", 1)
            cookie = site.cookies[who] if who else None  # type: ignore[attr-defined]
            scores = lighthouse(url, cookie)
            low = [k for k, minimum in THRESHOLDS.items() if scores.get(k, 0) < minimum]
            failed += bool(low)
            shown = "  ".join(f"{k} {scores.get(k, '—')}" for k in THRESHOLDS)
            print(f"{'!' if low else ' '} {name:<11} {lang}  {shown}")
    print(f"{failed} page(s) below the thresholds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
