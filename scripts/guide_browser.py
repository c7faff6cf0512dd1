#!/usr/bin/env python3
"""The person in front of the browser, for scripts/guide-browser: opens the authorization URL it is given,
signs in as the one user the guide made ($GUIDE_PASSWORDS, besides the admin), accepts the privacy notice,
allows, and follows the redirect back to the app's loopback listener."""

import json
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guides_check import authorize_redirect  # noqa: E402


def main():
    url = sys.argv[1]
    passwords = json.loads(os.environ["GUIDE_PASSWORDS"])
    email, password = next((e, p) for e, p in passwords.items() if e != "admin@localhost")
    callback = authorize_redirect(url, email, password)
    print(f"signed in as {email}; back to {callback and callback.split('?')[0]}")
    if callback:
        requests.get(callback, timeout=30)


if __name__ == "__main__":
    main()
