#!/usr/bin/env python3
"""Mirrors the OpenID Foundation conformance suite's OP test plans against a running Gatehouse.

One named check per suite module (its name first), as the suite's module would judge it, with independent
libraries: requests for HTTP, joserfc for every signature, a requests.Session as the browser (the same
scripted browser as scripts/oauth_client_check.py). The plans mirrored:

- oidcc-config-certification-test-plan: discovery and key rotation;
- oidcc-basic-certification-test-plan: its 33 modules, client_secret_basic, response_type=code (the client is
  registered without PKCE, as the suite's plan sends none but in its PKCE module);
- oidcc-rp-initiated-logout-certification-test-plan, and a back-channel logout as its plan checks the token.

The suite itself is not run here (docs/conformance.md says how to run it). Modules the suite skips when a
feature is not offered are checked for being cleanly refused, and say so.

Usage: conformance_check.py --issuer URL --client ID --secret SECRET --user EMAIL --password PASSWORD
       --redirect-uri URI --post-logout-redirect-uri URI --backchannel-port PORT --rotate-command CMD
"""

import argparse
import base64
import hashlib
import http.server
import json
import secrets
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from e2e_checks import check, summary
from oauth_client_check import Browser, query


class OP:
    """The provider under test, as the suite's client sees it: discovery, keys, and one registered client."""

    def __init__(self, args):
        self.args = args
        self.issuer = args.issuer.rstrip("/")
        self.metadata = requests.get(self.issuer + "/.well-known/openid-configuration").json()
        self.refresh_keys()

    def refresh_keys(self):
        self.jwks_json = requests.get(self.metadata["jwks_uri"]).json()
        self.jwks = KeySet.import_key_set(self.jwks_json)

    def verify(self, token):
        """The token verified with RS256 against the JWKS, fetched again when its kid is new, as a client does
        after the provider rotates its keys."""
        try:
            kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")).get("kid")
        except ValueError:
            kid = None
        if kid not in {key.kid for key in self.jwks.keys}:
            self.refresh_keys()
        return jwt.decode(token, self.jwks, algorithms=["RS256"])

    def url(self, **parameters):
        """An authorization request: code flow, the registered client and redirect URI, state and nonce."""
        base = {"response_type": "code", "client_id": self.args.client, "redirect_uri": self.args.redirect_uri,
                "scope": "openid", "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12)}
        base.update(parameters)
        return self.metadata["authorization_endpoint"] + "?" + urlencode(
            {name: value for name, value in base.items() if value is not None}), base

    def through(self, browser, url, sign_in=True):
        """Follows url as a user would: signs in when asked (if sign_in), accepts the privacy notice, allows
        the consent page. Returns (kind, callback-or-page, pages seen)."""
        kind, result = browser.go(url)
        seen = []
        for _ in range(4):
            if kind != "page":
                break
            if 'action="/login"' in result.text and sign_in:
                seen.append("login")
                kind, result = browser.sign_in(result, self.args.user, self.args.password)
            elif 'action="/privacy-notice"' in result.text:
                seen.append("privacy-notice")
                kind, result = browser.accept_privacy_notice(result)
            elif 'action="/oauth/authorize/decision"' in result.text:
                seen.append("consent")
                kind, result = browser.decide(result, "allow")
            else:
                break
        return kind, result, seen

    def token(self, **form):
        return requests.post(self.metadata["token_endpoint"], data=form, auth=(self.args.client, self.args.secret))

    def exchange(self, code, **extra):
        return self.token(grant_type="authorization_code", code=code, redirect_uri=self.args.redirect_uri, **extra)

    def flow(self, browser, sign_in=True, **parameters):
        """A whole code flow; returns (request parameters, callback parameters, token response json, pages)."""
        url, sent = self.url(**parameters)
        kind, result, seen = self.through(browser, url, sign_in)
        callback = query(result) if kind == "callback" else {}
        tokens = self.exchange(callback["code"]).json() if "code" in callback else {}
        return sent, callback, tokens, seen

    def id_token(self, token, nonce=None, access_token=None):
        """The ID token's claims once it passes what the suite checks of every ID token (Core §3.1.3.7); a
        list of the problems otherwise."""
        problems = []
        try:
            decoded = self.verify(token)
        except Exception as error:  # noqa: BLE001 - any failure to verify is the finding
            return None, [f"signature: {error}"]
        header, claims = decoded.header, decoded.claims
        now = time.time()
        if header.get("kid") not in {key.kid for key in self.jwks.keys}:
            problems.append("kid not in the JWKS")
        if claims.get("iss") != self.issuer:
            problems.append("iss")
        if claims.get("aud") != self.args.client and self.args.client not in (claims.get("aud") or []):
            problems.append("aud")
        if claims.get("azp") not in (None, self.args.client):
            problems.append("azp")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            problems.append("exp")
        if not isinstance(claims.get("iat"), int) or claims["iat"] > now + 5:
            problems.append("iat")
        if not claims.get("sub"):
            problems.append("sub")
        if nonce is not None and claims.get("nonce") != nonce:
            problems.append("nonce")
        if not isinstance(claims.get("auth_time"), int):
            problems.append("auth_time")
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
            if claims.get("at_hash") != base64.urlsafe_b64encode(digest).rstrip(b"=").decode():
                problems.append("at_hash")
        return claims, problems

    def userinfo(self, access_token, how="get"):
        endpoint = self.metadata["userinfo_endpoint"]
        bearer = {"Authorization": "Bearer " + access_token}
        if how == "get":
            return requests.get(endpoint, headers=bearer)
        if how == "post-header":
            return requests.post(endpoint, headers=bearer)
        return requests.post(endpoint, data={"access_token": access_token})


def signed_in_flow(op, browser, name, **parameters):
    """A flow expected to succeed with a valid ID token; returns (claims, tokens) and checks it under name."""
    sent, callback, tokens, _ = op.flow(browser, **parameters)
    claims, problems = (op.id_token(tokens["id_token"], sent.get("nonce"), tokens.get("access_token"))
                        if "id_token" in tokens else (None, ["no id_token"]))
    check(name, not problems and callback.get("state") == sent["state"], problems or callback or tokens)
    return claims or {}, tokens


def config_plan(op):
    print("==> oidcc-config-certification-test-plan")
    metadata = op.metadata
    required = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                "subject_types_supported", "id_token_signing_alg_values_supported", "userinfo_endpoint"]
    problems = [name for name in required if name not in metadata]
    if metadata.get("issuer") != op.issuer:
        problems.append("issuer is not the URL it was fetched under")
    if "RS256" not in metadata.get("id_token_signing_alg_values_supported", []):
        problems.append("RS256 not offered")
    if "code" not in metadata.get("response_types_supported", []):
        problems.append("code not offered")
    if "openid" not in metadata.get("scopes_supported", ["openid"]):
        problems.append("scopes_supported lacks openid")
    keys = op.jwks_json.get("keys", [])
    kids = [key.get("kid") for key in keys]
    if len(set(kids)) != len(kids) or None in kids:
        problems.append("kids missing or repeated")
    if any(key.get("use", "sig") != "sig" or "d" in key for key in keys):
        problems.append("a key that is not a public signing key")
    if not any(key.get("kty") == "RSA" and len(base64.urlsafe_b64decode(key["n"] + "==")) >= 256 for key in keys):
        problems.append("no RSA key of 2048 bits")
    check("oidcc-discovery-endpoint-verification: the metadata and the JWKS have every required member",
          not problems, problems)


def basic_plan(op, later):
    print("==> oidcc-basic-certification-test-plan (client_secret_basic, response_type=code)")
    browser = Browser(op.args.redirect_uri)

    sent, callback, tokens, seen = op.flow(browser, scope="openid")
    claims, problems = op.id_token(tokens.get("id_token", ""), sent["nonce"], tokens.get("access_token"))
    check("oidcc-server: sign-in, consent and a code; its ID token is RS256, verified and complete",
          seen[:1] == ["login"] and callback.get("state") == sent["state"] and callback.get("iss") == op.issuer
          and not problems and tokens.get("token_type") == "Bearer", problems or callback or tokens)
    sub, first_auth_time = (claims or {}).get("sub"), (claims or {}).get("auth_time")
    access = tokens.get("access_token", "")

    url, sent = op.url(response_type=None)
    kind, result, _ = op.through(browser, url)
    check("oidcc-response-type-missing: an error at the redirect URI, with state",
          kind == "callback" and query(result).get("error") == "invalid_request"
          and query(result).get("state") == sent["state"], result)

    for how, module in [("get", "oidcc-userinfo-get"), ("post-header", "oidcc-userinfo-post-header"),
                        ("post-body", "oidcc-userinfo-post-body")]:
        answer = op.userinfo(access, how)
        check(f"{module}: userinfo answers the ID token's sub",
              answer.status_code == 200 and answer.json().get("sub") == sub, answer.text)

    sent, callback, tokens, _ = op.flow(browser, nonce=None)
    claims, problems = op.id_token(tokens.get("id_token", ""), None, tokens.get("access_token"))
    check("oidcc-ensure-request-without-nonce-succeeds-for-code-flow: a code, and no nonce in the ID token",
          not problems and "nonce" not in (claims or {}), problems or claims)

    claims, tokens = signed_in_flow(op, browser, "oidcc-scope-profile: the flow succeeds", scope="openid profile")
    info = op.userinfo(tokens.get("access_token", "")).json()
    check("oidcc-scope-profile: ... and userinfo returns a profile claim (name)", bool(info.get("name")), info)
    claims, tokens = signed_in_flow(op, browser, "oidcc-scope-email: the flow succeeds", scope="openid email")
    info = op.userinfo(tokens.get("access_token", "")).json()
    check("oidcc-scope-email: ... and userinfo returns email", info.get("email") == op.args.user, info)
    offered = op.metadata.get("scopes_supported", [])
    for scope, claim in [("address", "address"), ("phone", "phone_number")]:
        _, tokens = signed_in_flow(op, browser, f"oidcc-scope-{scope}: the suite skips it, as scopes_supported "
                                   f"lacks {scope}; asked anyway, the flow succeeds without it",
                                   scope=f"openid {scope}")
        check(f"oidcc-scope-{scope}: ... not offered, not granted, no {claim} claim",
              scope not in offered and scope not in tokens.get("scope", "").split()
              and claim not in op.userinfo(tokens.get("access_token", "")).json())
    _, tokens = signed_in_flow(op, browser, "oidcc-scope-all: the flow succeeds",
                               scope="openid profile email address phone")
    info = op.userinfo(tokens.get("access_token", "")).json()
    check("oidcc-scope-all: ... with the profile and email claims Gatehouse holds",
          info.get("name") and info.get("email") == op.args.user, info)
    signed_in_flow(op, browser, "oidcc-ensure-other-scope-order-succeeds: 'email openid' works",
                   scope="email openid")
    signed_in_flow(op, browser, "oidcc-display-page: display=page is accepted", display="page")
    signed_in_flow(op, browser, "oidcc-display-popup: display=popup is accepted", display="popup")

    time.sleep(1.2)  # so a new sign-in has a later auth_time, in whole seconds
    sent, callback, tokens, seen = op.flow(browser, prompt="login")
    claims, problems = op.id_token(tokens.get("id_token", ""), sent["nonce"])
    check("oidcc-prompt-login: the password is asked again, and auth_time moves on",
          seen[:1] == ["login"] and not problems and (claims or {}).get("auth_time", 0) > first_auth_time,
          problems or seen)
    last_auth_time = (claims or {}).get("auth_time")

    url, sent = op.url(prompt="none")
    kind, result, _ = op.through(Browser(op.args.redirect_uri), url, sign_in=False)
    check("oidcc-prompt-none-not-logged-in: login_required at the redirect URI, with state, no page",
          kind == "callback" and query(result).get("error") in ("login_required", "interaction_required")
          and query(result).get("state") == sent["state"], result)
    sent, callback, tokens, seen = op.flow(browser, prompt="none")
    check("oidcc-prompt-none-logged-in: a code without any page", "code" in callback and not seen and
          "id_token" in tokens, callback)

    time.sleep(1.2)
    sent, callback, tokens, seen = op.flow(browser, max_age="1")
    claims, _ = op.id_token(tokens.get("id_token", ""), sent["nonce"])
    check("oidcc-max-age-1: a sign-in older than a second is asked again, and auth_time is new",
          seen[:1] == ["login"] and (claims or {}).get("auth_time", 0) > last_auth_time, seen)
    recent = (claims or {}).get("auth_time")
    sent, callback, tokens, seen = op.flow(browser, max_age="10000")
    claims, _ = op.id_token(tokens.get("id_token", ""), sent["nonce"])
    check("oidcc-max-age-10000: no new sign-in, and auth_time is that of the last one",
          not seen and (claims or {}).get("auth_time") == recent, seen or claims)

    signed_in_flow(op, browser, "oidcc-ensure-request-with-unknown-parameter-succeeds", extra="foobar")
    _, tokens = signed_in_flow(op, browser, "oidcc-id-token-hint: the first ID token is issued")
    sent, callback, hinted, seen = op.flow(browser, prompt="none", id_token_hint=tokens.get("id_token"))
    claims, problems = op.id_token(hinted.get("id_token", ""), sent["nonce"])
    check("oidcc-id-token-hint: prompt=none with it answers for the same sub, without a page",
          not seen and not problems and (claims or {}).get("sub") == sub, problems or callback)

    fresh = Browser(op.args.redirect_uri)
    url, sent = op.url(login_hint=op.args.user)
    kind, page = fresh.go(url)
    check("oidcc-login-hint: the sign-in form starts with the hinted email",
          kind == "page" and f'value="{op.args.user}"' in page.text, page.text[:300] if kind == "page" else page)
    kind, result, _ = op.through(fresh, url)
    check("oidcc-login-hint: ... and the flow succeeds", kind == "callback" and "code" in query(result), result)

    signed_in_flow(op, browser, "oidcc-ui-locales: ui_locales is accepted", ui_locales="se")
    signed_in_flow(op, browser, "oidcc-claims-locales: claims_locales is accepted", claims_locales="se")
    signed_in_flow(op, browser, "oidcc-ensure-request-with-acr-values-succeeds", acr_values="1 2")

    # A code used twice: the second exchange fails, and what the first gave stops too (RFC 6749 §4.1.2).
    url, sent = op.url()
    kind, result, _ = op.through(browser, url)
    code = query(result).get("code", "")
    one = op.exchange(code)
    two = op.exchange(code)
    check("oidcc-codereuse: a code works once; the second exchange is invalid_grant",
          one.status_code == 200 and two.status_code == 400 and two.json().get("error") == "invalid_grant", two.text)
    check("oidcc-codereuse: ... and the tokens of the first exchange stop",
          op.userinfo(one.json().get("access_token", "")).status_code == 401)

    url, _ = op.url()
    kind, result, _ = op.through(browser, url)
    later_code = query(result).get("code", "")
    later_tokens = op.exchange(later_code).json()
    later.append(("oidcc-codereuse-30seconds", later_code, later_tokens))

    url, _ = op.url(redirect_uri="https://evil.example.com/callback")
    kind, page = browser.go(url)
    check("oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri is an error page, never a redirect",
          kind == "page" and page.status_code == 400 and "text/html" in page.headers.get("Content-Type", ""), kind)

    unsigned = (base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode() + "." +
                base64.urlsafe_b64encode(json.dumps({"client_id": op.args.client, "response_type": "code"})
                                         .encode()).rstrip(b"=").decode() + ".")
    url, sent = op.url(request=unsigned)
    kind, result, _ = op.through(browser, url)
    check("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: request_not_supported",
          kind == "callback" and query(result).get("error") == "request_not_supported"
          and query(result).get("state") == sent["state"], result)
    check("oidcc-ensure-request-object-with-redirect-uri: the suite skips it, as request objects are not "
          "supported; discovery says so", op.metadata.get("request_parameter_supported") is False)

    _, tokens = signed_in_flow(op, browser, "oidcc-claims-essential: the claims parameter is accepted",
                               claims=json.dumps({"userinfo": {"name": {"essential": True}}}))
    info = op.userinfo(tokens.get("access_token", "")).json()
    check("oidcc-claims-essential: ... and userinfo answers (sub; name only with profile, as advertised)",
          info.get("sub") == sub and op.metadata.get("claims_parameter_supported") is False, info)

    _, tokens = signed_in_flow(op, browser, "oidcc-refresh-token: the first tokens")
    original, _ = op.id_token(tokens.get("id_token", ""))
    refreshed = op.token(grant_type="refresh_token", refresh_token=tokens.get("refresh_token", "")).json()
    claims, problems = op.id_token(refreshed.get("id_token", ""), None, refreshed.get("access_token"))
    check("oidcc-refresh-token: a refresh gives new tokens and an ID token of the same iss, sub, aud, auth_time",
          not problems and refreshed.get("refresh_token") != tokens.get("refresh_token")
          and all((claims or {}).get(name) == (original or {}).get(name) for name in ("iss", "sub", "aud", "auth_time")),
          problems or refreshed)

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url, sent = op.url(code_challenge=challenge, code_challenge_method="S256")
    kind, result, _ = op.through(browser, url)
    answer = op.exchange(query(result).get("code", ""), code_verifier=verifier)
    check("oidcc-ensure-request-with-valid-pkce-succeeds", answer.status_code == 200, answer.text)

    form = {"response_type": "code", "client_id": op.args.client, "redirect_uri": op.args.redirect_uri,
            "scope": "openid", "state": "posted", "nonce": "n"}
    kind, result = browser.go(op.metadata["authorization_endpoint"], "POST", form)
    check("oidcc-ensure-post-request-succeeds: the request as a form POST",
          kind == "callback" and "code" in query(result) and query(result).get("state") == "posted", result)
    return browser, sub


class BackchannelReceiver(http.server.BaseHTTPRequestHandler):
    """An app's back-channel logout endpoint: keeps each logout_token posted to it."""
    tokens = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.tokens.extend(parse_qs(body).get("logout_token", []))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_):
        pass


def logout_plan(op, browser, sub):
    print("==> oidcc-rp-initiated-logout-certification-test-plan, and back-channel logout")
    end_session = op.metadata.get("end_session_endpoint")
    check("the end_session_endpoint is in discovery", end_session == op.issuer + "/oauth/logout", op.metadata)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", op.args.backchannel_port), BackchannelReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, tokens = signed_in_flow(op, browser, "oidcc-rp-initiated-logout: signed in")
        hint = tokens.get("id_token", "")
        kind, result = browser.go(end_session + "?" + urlencode(
            {"id_token_hint": hint[:-4] + ("AAAA" if not hint.endswith("AAAA") else "BBBB"),
             "post_logout_redirect_uri": op.args.post_logout_redirect_uri, "state": "s"}))
        check("oidcc-rp-initiated-logout-modified-id-token-hint: an error page, no redirect",
              kind == "page" and result.status_code == 400, kind)
        kind, result = browser.go(end_session + "?" + urlencode(
            {"id_token_hint": hint, "post_logout_redirect_uri": op.args.post_logout_redirect_uri + "/x",
             "state": "s"}))
        check("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an error page, no redirect",
              kind == "page" and result.status_code == 400, kind)
        browser.redirect_uri = op.args.post_logout_redirect_uri
        kind, result = browser.go(end_session + "?" + urlencode(
            {"id_token_hint": hint, "post_logout_redirect_uri": op.args.post_logout_redirect_uri,
             "state": "bye"}))
        check("oidcc-rp-initiated-logout: signed out and sent back with state",
              kind == "callback" and query(result).get("state") == "bye", result)
        deadline = time.time() + 10
        while not BackchannelReceiver.tokens and time.time() < deadline:
            time.sleep(0.05)
        token = (BackchannelReceiver.tokens or [""])[0]
        try:
            decoded = op.verify(token)
            header, claims = decoded.header, decoded.claims
        except Exception as error:  # noqa: BLE001
            header, claims = {}, {"error": str(error)}
        events = claims.get("events", {})
        check("oidcc-backchannel-rp-initiated-logout: the app is POSTed a logout token that verifies, typ "
              "logout+jwt, with iss, aud, sub, iat, jti and the logout event, and no nonce",
              header.get("typ") == "logout+jwt" and claims.get("iss") == op.issuer
              and claims.get("aud") == op.args.client and claims.get("sub") == sub and claims.get("jti")
              and isinstance(claims.get("iat"), int) and "nonce" not in claims
              and events.get("http://schemas.openid.net/event/backchannel-logout") == {}, claims)
        browser.redirect_uri = op.args.redirect_uri
        url, _ = op.url(prompt="none")
        kind, result, _ = op.through(browser, url, sign_in=False)
        check("oidcc-rp-initiated-logout: ... and the session is over (prompt=none: login_required)",
              kind == "callback" and query(result).get("error") == "login_required", result)

        _, tokens = signed_in_flow(op, browser, "oidcc-rp-initiated-logout-no-state: signed in again")
        browser.redirect_uri = op.args.post_logout_redirect_uri
        kind, result = browser.go(end_session + "?" + urlencode(
            {"id_token_hint": tokens.get("id_token", ""),
             "post_logout_redirect_uri": op.args.post_logout_redirect_uri}))
        check("oidcc-rp-initiated-logout-no-state: sent back without a state",
              kind == "callback" and "state" not in query(result), result)
        browser.redirect_uri = op.args.redirect_uri
        signed_in_flow(op, browser, "oidcc-rp-initiated-logout-no-params: signed in again")
        kind, page = browser.go(end_session)
        check("oidcc-rp-initiated-logout-no-params: the user is asked, not signed out by a bare link",
              kind == "page" and page.status_code == 200 and "Sign out of Gatehouse?" in page.text, kind)
        kind, page = browser.go(end_session + "?" + urlencode({"state": "only"}))
        check("oidcc-rp-initiated-logout-only-state: asked too, and never redirected",
              kind == "page" and "Sign out of Gatehouse?" in page.text, kind)
        kind, page = browser.go(end_session + "?" + urlencode(
            {"id_token_hint": tokens.get("id_token", "")}))
        check("oidcc-rp-initiated-logout-no-post-logout-redirect-uri: signed out, and told so on a page",
              kind == "page" and "You are signed out" in page.text, kind)
    finally:
        server.shutdown()


def key_rotation(op, later):
    """oidcc-server-rotate-keys: the operator rotates while the suite waits; new ID tokens verify against the
    JWKS fetched again, and tokens signed before verify still."""
    before = {key.kid for key in op.jwks.keys}
    subprocess.run(op.args.rotate_command, shell=True, check=True, stdout=subprocess.DEVNULL)
    later.append(("oidcc-server-rotate-keys", before, None))


def finish_later(op, later, started):
    # Servers pick rotated keys up within 30 seconds; the code reuse module waits 30 seconds itself.
    wait = max(0.0, started + 31 - time.time())
    print(f"==> waiting {wait:.0f} more seconds, as oidcc-codereuse-30seconds and oidcc-server-rotate-keys do")
    time.sleep(wait)
    for name, first, second in later:
        if name == "oidcc-codereuse-30seconds":
            reused = op.exchange(first)
            check("oidcc-codereuse-30seconds: a code used 30 seconds ago is invalid_grant, and its tokens stop",
                  reused.status_code == 400 and reused.json().get("error") == "invalid_grant"
                  and op.userinfo(second.get("access_token", "")).status_code == 401, reused.text)
        elif name == "oidcc-server-rotate-keys":
            op.refresh_keys()
            new = {key.kid for key in op.jwks.keys} - first
            _, tokens = signed_in_flow(op, Browser(op.args.redirect_uri),
                                       "oidcc-server-rotate-keys: a new ID token verifies against the JWKS "
                                       "fetched again")
            kid = op.verify(tokens.get("id_token", "")).header.get("kid")
            check("oidcc-server-rotate-keys: ... signed with a new key, the old ones still published",
                  kid in new and first <= {key.kid for key in op.jwks.keys}, (kid, new))


def main():
    parser = argparse.ArgumentParser()
    for name in ["--issuer", "--client", "--secret", "--user", "--password", "--redirect-uri",
                 "--post-logout-redirect-uri", "--rotate-command"]:
        parser.add_argument(name, required=True)
    parser.add_argument("--backchannel-port", type=int, required=True)
    args = parser.parse_args()
    op = OP(args)
    started = time.time()
    later = []
    config_plan(op)
    key_rotation(op, later)
    browser, sub = basic_plan(op, later)
    logout_plan(op, browser, sub)
    finish_later(op, later, started)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
