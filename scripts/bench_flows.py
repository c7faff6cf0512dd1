#!/usr/bin/env python3
"""The parts of scripts/bench that need a browser's steps rather than one request: making refresh-token
families for the refresh benchmark, and a signed-in session whose consent is remembered, for wrk's
authorization-code flow (scripts/bench). `flows` times whole flows from Python, for comparison: Python is the
bottleneck there (about 370 flows a second on these machines).

Usage: bench_flows.py families --base URL --client ID --secret S --user EMAIL --password PW --count N
       bench_flows.py cookie --base URL --client ID --secret S --user EMAIL --password PW
       bench_flows.py flows --base URL --client ID --secret S --user EMAIL --password PW --connections C
                      --seconds D
"""

import argparse
import base64
import hashlib
import secrets
import sys
import threading
import time
from urllib.parse import urlencode

import requests

from oauth_client_check import Browser, query

REDIRECT = "http://127.0.0.1/callback"


def signed_in(args):
    browser = Browser(REDIRECT)
    _, page = browser.go(args.base + "/login")
    browser.sign_in(page, args.user, args.password)
    return browser


def code(browser, args):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = args.base + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": args.client, "redirect_uri": REDIRECT, "scope": "openid profile",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    kind, page = browser.go(url)
    if kind == "page":
        kind, page = browser.decide(page, "allow")
    return query(page)["code"], verifier


def exchange(session, args, code_value, verifier):
    answer = session.post(args.base + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code_value, "redirect_uri": REDIRECT,
        "code_verifier": verifier}, auth=(args.client, args.secret), timeout=30)
    answer.raise_for_status()
    return answer.json()


def families(args):
    browser = signed_in(args)
    for _ in range(args.count):
        code_value, verifier = code(browser, args)
        print(exchange(browser.session, args, code_value, verifier)["refresh_token"])


def cookie(args):
    """A Cookie header for a signed-in browser that has consented to the client once."""
    browser = signed_in(args)
    code(browser, args)
    print("; ".join(f"{name}={value}" for name, value in browser.session.cookies.items()))


def flows(args):
    # Sign in (bcrypt, deliberately slow) and consent once per connection before the clock starts.
    browsers = [signed_in(args) for _ in range(args.connections)]
    for browser in browsers:
        code(browser, args)
    stop = time.monotonic() + args.seconds
    latencies, failures, lock = [], [0], threading.Lock()

    def run(browser):
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                code_value, verifier = code(browser, args)
                exchange(browser.session, args, code_value, verifier)
                with lock:
                    latencies.append(time.monotonic() - started)
            except Exception:
                with lock:
                    failures[0] += 1

    threads = [threading.Thread(target=run, args=(browser,)) for browser in browsers]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begun
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
    print(f"{len(latencies) / elapsed:.1f} {p99:.2f} {failures[0]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["families", "cookie", "flows"])
    for name in ["--base", "--client", "--secret", "--user", "--password"]:
        parser.add_argument(name, required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    args.base = args.base.rstrip("/")
    {"families": families, "cookie": cookie, "flows": flows}[args.what](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
