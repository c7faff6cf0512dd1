#!/usr/bin/env python3
"""The cross-instance suite: two Gatehouse instances on one PostgreSQL, and every promise checked across them —
a session made on one is used on the other, a code issued by one is redeemed on the other, and a revocation,
deactivation or secret rotation on one is refused by the other on the very next request (1,000 revocations in
a row, with the revoking call's latency reported). Rate limits are leased: never over the limit across both,
and under by at most the lease the idle instance holds.

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

    print("-- rate limits across instances: never over, and under by at most one lease per other instance")
    def limited_key(name):
        return on.admin("POST", on.a, f"/api/v1/users/{user_id}/api-keys",
                        json={"name": name, "rate_limit_per_minute": 60}).json().get("key")
    burst, idle, spread = limited_key("sixty a minute"), limited_key("sixty, mostly on B"), limited_key("sixty, both")
    # The window is a UTC minute: start early in one, so that nothing straddles two.
    while datetime.now(timezone.utc).second > 30:
        time.sleep(1)
    targets = [on.a if i % 2 == 0 else on.b for i in range(100)]
    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(lambda base: on.bearer(base, burst), targets))
    codes = [answer.status_code for answer in answers]
    check("100 concurrent requests over A and B on a 60/min key: no more than 60 succeed, and at least 55",
          55 <= codes.count(200) <= 60 and codes.count(200) + codes.count(429) == 100,
          {c: codes.count(c) for c in set(codes)})
    check("... every 429 says when to retry", all(answer.headers.get("Retry-After") for answer in answers
                                                  if answer.status_code == 429))
    with ThreadPoolExecutor(max_workers=40) as pool:
        again = [a.status_code for a in pool.map(lambda base: on.bearer(base, burst), targets[:40])]
    check("... and another 40 in the same minute keep the total within 60, whichever instance they reach",
          codes.count(200) + again.count(200) <= 60, {c: again.count(c) for c in set(again)})
    # The lower bound exactly: A takes one request and holds the rest of its lease (6 of 60); B gets the load.
    first = on.bearer(on.a, idle).status_code
    on_b = sum(on.bearer(on.b, idle).status_code == 200 for _ in range(80))
    check("one request on A, then 80 on B: B admits 54, all but what A holds unused", first == 200 and on_b == 54,
          {"a": first, "b": on_b})
    on_a = sum(on.bearer(on.a, idle).status_code == 200 for _ in range(20))
    check("... and A still admits the 5 it holds, and not one more: 60 in all", 1 + on_b + on_a == 60,
          {"a": 1 + on_a, "b": on_b})
    # Load on both, each asking until refused: nothing is left unused, so exactly the limit.
    with ThreadPoolExecutor(max_workers=8) as pool:
        spread_codes = list(pool.map(lambda base: on.bearer(base, spread).status_code,
                                     [on.a if i % 3 else on.b for i in range(150)]))
    check("150 requests over both, four at a time on each: exactly 60 succeed", spread_codes.count(200) == 60,
          {c: spread_codes.count(c) for c in set(spread_codes)})

    print("-- 1,000 revocations on A, each refused by B at its very next request")
    keys = []
    for n in range(10):
        made = on.admin("POST", on.a, f"/api/v1/users/{user_id}/api-keys", json={"name": f"revoked {n}"}).json()
        keys.append((made.get("key"), made.get("id")))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {args.admin_key}"
    obeyed, warm, latencies, reads = 0, 0, [], []
    for n in range(1000):
        key, key_id = keys[n % len(keys)]
        started = time.perf_counter()
        warm += session.get(on.b + "/api/v1/me", headers={"Authorization": f"Bearer {key}"},
                            timeout=10).status_code == 200
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        session.post(on.a + f"/api/v1/api-keys/{key_id}/revoke", timeout=10)
        latencies.append(time.perf_counter() - started)
        obeyed += session.get(on.b + "/api/v1/me", headers={"Authorization": f"Bearer {key}"},
                              timeout=10).status_code == 401
        session.post(on.a + f"/api/v1/api-keys/{key_id}/reactivate", timeout=10)
    def percentiles(seconds):
        seconds = sorted(seconds)
        return seconds[len(seconds) // 2] * 1000, seconds[int(len(seconds) * 0.99)] * 1000
    print("   revoking call on A: p50 %.1f ms, p99 %.1f ms (1,000 revocations);" % percentiles(latencies),
          "for scale, a key's GET /api/v1/me on B: p50 %.1f ms, p99 %.1f ms" % percentiles(reads))
    check("B served each key the moment before, and refused it at its very next request: 1000 of 1000",
          warm == 1000 and obeyed == 1000, {"served before": warm, "refused after": obeyed})

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
