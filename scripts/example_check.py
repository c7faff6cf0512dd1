#!/usr/bin/env python3
"""Runs examples/oauth_login.py against a running Gatehouse and plays its user: signs in, accepts the privacy
notice, consents, and hands the redirect to the example's loopback listener. Checks that the example gets
through every step.

Usage: example_check.py --issuer URL --client ID --user EMAIL --password PW
Prints `N passed, N failed` last.
"""

import argparse
import os
import re
import subprocess
import sys
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_checks import check, summary  # noqa: E402
from oauth_client_check import Browser  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    for name in ("--issuer", "--client", "--user", "--password"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    # No --port: the example's default lets the system choose one (RFC 8252 §7.3), named in its redirect URI.
    example = subprocess.Popen(
        [sys.executable, os.path.join(root, "examples", "oauth_login.py"), "--issuer", args.issuer,
         "--client-id", args.client, "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = example.stdout.readline()
        check("the example prints the authorization URL", first.startswith("Sign in at: "), first)
        url = first.removeprefix("Sign in at: ").strip()
        redirect_uri = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("redirect_uri", [""])[0]
        check("... with a loopback redirect URI on a port the system chose",
              re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*/callback", redirect_uri) is not None, redirect_uri)
        browser = Browser(redirect_uri)
        kind, page = browser.go(url)
        if kind == "page" and "/login" in page.url:
            kind, page = browser.sign_in(page, args.user, args.password)
        if kind == "page" and "/privacy-notice" in page.url:
            kind, page = browser.accept_privacy_notice(page)
        if kind == "page":
            kind, page = browser.decide(page, "allow")
        check("signing in and consenting reaches the example's loopback redirect URI", kind == "callback", page)
        if kind == "callback":
            delivered = requests.get(page, timeout=30)
            check("the example's listener takes the redirect", delivered.status_code == 200, delivered.text)
        output, _ = example.communicate(timeout=60)
    finally:
        if example.poll() is None:
            example.kill()
    print("       " + output.strip().replace("\n", "\n       "))
    check("the example finishes without an error", example.returncode == 0, output)
    check("... granted the scopes it asked for", "Granted: email openid profile" in output, output)
    check("... read userinfo and /api/v1/me as the user", '"sub"' in output and f"<{args.user}>" in output, output)
    check("... and refreshed, getting a new refresh token", "a new refresh token: True" in output, output)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
