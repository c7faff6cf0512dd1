#!/usr/bin/env python3
"""The cross-instance suite: two Gatehouse instances on one PostgreSQL, and every promise checked across them —
a session made on one is used on the other, a code issued by one is redeemed on the other, and a revocation,
deactivation or secret rotation on one is refused by the other on the very next request. Rate limits are exact:
100 concurrent requests spread over both on a 60/min key give exactly 60 successes.

Every check prints 'ok' or 'FAIL'; the last line is 'N passed, N failed', and the exit status is non-zero on
any failure.

Usage: scale_check.py --a URL --b URL --admin-key KEY --client ID --secret SECRET --user EMAIL --password PW
       --redirect-uri URI
"""

import argparse
import base64
import hashlib
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests

from e2e_checks import check, summary
from oauth_client_check import Browser, query


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class Instances:
    def __init__(self, args):
        self.a = args.a.rstrip("/")
        self.b = args.b.rstrip("/")
        self.args = args

    def admin(self, method, base, path, **kwargs):
        return requests.request(method, base + path, headers={"Authorization": f"Bearer {self.args.admin_key}"},
                                timeout=10, **kwargs)

    def bearer(self, base, credential, path="/api/v1/me"):
        return requests.get(base + path, headers={"Authorization": f"Bearer {credential}"}, timeout=10)

    def token(self, base, data, secret=None):
        return requests.post(base + "/oauth/token", data=data, auth=(self.args.client, secret or self.args.secret),
                             timeout=10)

    def code(self, browser, authorize_on):
        """An authorization code for the user through the browser, asked of `authorize_on`; consents if asked."""
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(8)
        url = authorize_on + "/oauth/authorize?" + requests.compat.urlencode({
            "response_type": "code", "client_id": self.args.client, "redirect_uri": self.args.redirect_uri,
            "scope": "openid profile", "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
        })
        kind, page = browser.go(url)
        consent = kind == "page"
        if consent:
            kind, page = browser.decide(page, "allow")
        parameters = query(page) if kind == "callback" else {}
        return parameters.get("code"), verifier, consent, parameters.get("state") == state

    def tokens(self, browser, authorize_on, redeem_on):
        code, verifier, _, _ = self.code(browser, authorize_on)
        return self.token(redeem_on, {"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": self.args.redirect_uri, "code_verifier": verifier}).json()


def main():
    parser = argparse.ArgumentParser()
    for name in ["--a", "--b", "--admin-key", "--client", "--secret", "--user", "--password", "--redirect-uri"]:
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    run(Instances(args))
    return summary()


def run(on):
    args = on.args
    print("-- a session made on A is used on B; a code issued by B is redeemed on A")
    browser = Browser(args.redirect_uri)
    kind, page = browser.go(on.a + "/login")
    kind, page = browser.sign_in(page, args.user, args.password)
    check("the user signs in on A", kind == "page" and "/account" in page.url, browser.hops[-2:])
    code, verifier, consented, state_ok = on.code(browser, on.b)
    check("B knows A's session: it asks for consent, not a password, and answers with a code and the state",
          consented and code and state_ok, browser.hops[-3:])
    answer = on.token(on.a, {"grant_type": "authorization_code", "code": code, "redirect_uri": args.redirect_uri,
                             "code_verifier": verifier})
    check("A redeems B's code", answer.status_code == 200 and "refresh_token" in answer.json(), answer.text)
    first = answer.json()

    print("-- refresh tokens rotate across instances, and reuse is caught across them")
    rotated = on.token(on.b, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    check("B rotates A's refresh token", rotated.status_code == 200, rotated.text)
    reused = on.token(on.a, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    check("A refuses the rotated-away token", reused.json().get("error") == "invalid_grant", reused.text)
    family = on.token(on.b, {"grant_type": "refresh_token", "refresh_token": rotated.json().get("refresh_token")})
    check("... and the reuse ended the whole family on B too", family.json().get("error") == "invalid_grant",
          family.text)

    print("-- a code replayed on the other instance")
    code, verifier, _, _ = on.code(browser, on.a)
    redeemed = on.token(on.b, {"grant_type": "authorization_code", "code": code, "redirect_uri": args.redirect_uri,
                               "code_verifier": verifier})
    again = on.token(on.a, {"grant_type": "authorization_code", "code": code, "redirect_uri": args.redirect_uri,
                            "code_verifier": verifier})
    check("B redeems A's code and A refuses it a second time", redeemed.status_code == 200 and
          again.json().get("error") == "invalid_grant", again.text)
    check("... and the replay revoked the tokens the code gave, on B too",
          on.bearer(on.b, redeemed.json().get("access_token")).status_code == 401)

    print("-- revoking on A is refused by B on the very next request")
    fresh = on.tokens(browser, on.a, on.b)
    access = fresh.get("access_token")
    check("a new access token works on B", on.bearer(on.b, access).status_code == 200)
    revoked = requests.post(on.a + "/oauth/revoke", data={"token": access}, auth=(args.client, args.secret),
                            timeout=10)
    check("A revokes it", revoked.status_code == 200, revoked.text)
    check("... B refuses it on the next request", on.bearer(on.b, access).status_code == 401)

    # A client's own token belongs to no grant: its revocation travels as a list entry and a raised epoch.
    own = on.token(on.a, {"grant_type": "client_credentials", "scope": "clients:read"}).json().get("access_token")
    check("a client's own token from A works on B", on.bearer(on.b, own, "/api/v1/clients").status_code == 200)
    revoked = requests.post(on.b + "/oauth/revoke", data={"token": own}, auth=(args.client, args.secret), timeout=10)
    check("... B revokes it, and A refuses it on the next request", revoked.status_code == 200 and
          on.bearer(on.a, own, "/api/v1/clients").status_code == 401, revoked.text)

    users = on.admin("GET", on.b, "/api/v1/users").json().get("users", [])
    user_id = next((u["id"] for u in users if u["email"] == args.user), None)
    made = on.admin("POST", on.a, f"/api/v1/users/{user_id}/api-keys", json={"name": "cross-instance"})
    key, key_id = made.json().get("key"), made.json().get("id")
    check("an API key made on A works on B", made.status_code == 201 and on.bearer(on.b, key).status_code == 200,
          made.text)
    on.admin("POST", on.a, f"/api/v1/api-keys/{key_id}/revoke")
    check("revoked on A, B refuses it on the next request", on.bearer(on.b, key).status_code == 401)
    on.admin("POST", on.b, f"/api/v1/api-keys/{key_id}/reactivate")
    check("reactivated on B, A accepts it on the next request", on.bearer(on.a, key).status_code == 200)

    print("-- rotating the client secret on A")
    before = on.token(on.b, {"grant_type": "client_credentials", "scope": "clients:read"})
    check("the secret works on B", before.status_code == 200, before.text)
    rotation = on.admin("POST", on.a, f"/api/v1/clients/{args.client}/secret")
    new_secret = rotation.json().get("client_secret")
    old = on.token(on.b, {"grant_type": "client_credentials", "scope": "clients:read"})
    check("... B refuses the old secret on the next request", old.status_code == 401 and
          old.json().get("error") == "invalid_client", old.text)
    check("... and accepts the new one", on.token(on.b, {"grant_type": "client_credentials", "scope": "clients:read"},
                                                  secret=new_secret).status_code == 200)
    args.secret = new_secret

    print("-- exact rate limits across instances")
    limited = on.admin("POST", on.a, f"/api/v1/users/{user_id}/api-keys",
                       json={"name": "sixty a minute", "rate_limit_per_minute": 60}).json().get("key")
    # The window is a UTC minute: start the burst early in one, so it does not straddle two.
    while datetime.now(timezone.utc).second > 40:
        time.sleep(1)
    targets = [on.a if i % 2 == 0 else on.b for i in range(100)]
    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(lambda base: on.bearer(base, limited), targets))
    codes = [answer.status_code for answer in answers]
    check("100 concurrent requests over A and B on a 60/min key: exactly 60 succeed",
          codes.count(200) == 60 and codes.count(429) == 40, {c: codes.count(c) for c in set(codes)})
    check("... every 429 says when to retry", all(answer.headers.get("Retry-After") for answer in answers
                                                  if answer.status_code == 429))

    print("-- deactivating the user on A ends everything of theirs on B at once")
    token = on.tokens(browser, on.b, on.b).get("access_token")
    check("her token and key work on B", on.bearer(on.b, token).status_code == 200 and
          on.bearer(on.b, key).status_code == 200)
    deactivated = on.admin("PATCH", on.a, f"/api/v1/users/{user_id}", json={"active": False})
    check("A deactivates her", deactivated.status_code == 200, deactivated.text)
    check("... B refuses her access token on the next request", on.bearer(on.b, token).status_code == 401)
    check("... and her API key", on.bearer(on.b, key).status_code == 401)
    kind, page = browser.go(on.b + "/account")
    check("... and her browser session", kind == "page" and "/login" in page.url, browser.hops[-2:])


if __name__ == "__main__":
    sys.exit(main())
