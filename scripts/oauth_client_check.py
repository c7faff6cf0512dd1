#!/usr/bin/env python3
"""Drives a running Gatehouse with independent OAuth and JOSE libraries, as a third-party app would.

The OAuth client is authlib (with requests); signatures are checked against the JWKS with joserfc; a
requests.Session plays the user's browser, reading the CSRF token out of each HTML form. Every check prints
'ok' or 'FAIL'; the last line is 'N passed, N failed', and the exit status is non-zero on any failure.

Usage: oauth_client_check.py --issuer URL [--other-instance URL] --public-client ID --confidential-client ID
       --confidential-secret SECRET --user EMAIL --password PASSWORD --other-workspace-client ID
       --redirect-uri URI [--deactivate-command CMD]
"""

import argparse
import base64
import hashlib
import html
import re
import secrets
import subprocess
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from e2e_checks import check, summary



class Browser:
    """The user's browser: keeps cookies, submits the forms Gatehouse renders, follows redirects by hand so
    every hop can be looked at, and stops at the client's redirect URI (nobody listens there)."""

    def __init__(self, redirect_uri):
        self.session = requests.Session()
        self.redirect_uri = redirect_uri
        self.hops = []

    def go(self, url, method="GET", data=None):
        """Follows redirects from url until a page is shown or the client's redirect URI is reached.
        Returns ('page', response) or ('callback', url)."""
        for _ in range(12):
            if url.startswith(self.redirect_uri):
                return "callback", url
            if method == "GET":
                response = self.session.get(url, allow_redirects=False)
            else:
                response = self.session.post(url, data=data, allow_redirects=False)
            self.hops.append((method, url, response.status_code))
            if response.status_code in (301, 302, 303, 307, 308):
                url = urljoin(url, response.headers["Location"])
                method, data = "GET", None
                continue
            return "page", response
        raise RuntimeError("too many redirects")

    @staticmethod
    def form(page, action):
        """The hidden and named fields of the form posting to action, as a dict."""
        match = re.search(r'<form method="post" action="' + re.escape(action) + r'">(.*?)</form>', page.text, re.S)
        if not match:
            raise AssertionError(f"no form for {action} on the page: {page.text[:300]}")
        fields = {}
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)):
            fields[html.unescape(name)] = html.unescape(value)
        return fields

    def sign_in(self, page, email, password):
        fields = self.form(page, "/login")
        fields.update({"email": email, "password": password})
        return self.go(urljoin(page.url, "/login"), "POST", fields)

    def accept_privacy_notice(self, page):
        return self.go(urljoin(page.url, "/privacy-notice"), "POST", self.form(page, "/privacy-notice"))

    def decide(self, page, decision):
        fields = self.form(page, "/oauth/authorize/decision")
        fields["decision"] = decision
        return self.go(urljoin(page.url, "/oauth/authorize/decision"), "POST", fields)


def query(url):
    return {name: values[0] for name, values in parse_qs(urlparse(url).query).items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--other-instance", help="a second instance sharing the database; tokens are fetched there")
    parser.add_argument("--public-client", required=True)
    parser.add_argument("--confidential-client", required=True)
    parser.add_argument("--confidential-secret", required=True)
    parser.add_argument("--other-workspace-client", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--deactivate-command", help="a shell command that deactivates --user")
    args = parser.parse_args()

    issuer = args.issuer.rstrip("/")
    token_host = (args.other_instance or issuer).rstrip("/")

    print("==> Discovery")
    metadata = requests.get(issuer + "/.well-known/oauth-authorization-server").json()
    oidc = requests.get(issuer + "/.well-known/openid-configuration").json()
    check("RFC 8414 metadata names the issuer", metadata.get("issuer") == issuer, metadata)
    check("... and OpenID configuration is the same document", oidc == metadata)
    check("... S256 is the only PKCE method", metadata.get("code_challenge_methods_supported") == ["S256"])
    check("... response type code only", metadata.get("response_types_supported") == ["code"])
    check("... iss in the authorization response (RFC 9207)",
          metadata.get("authorization_response_iss_parameter_supported") is True)
    check("... the three client authentication methods",
          set(metadata.get("token_endpoint_auth_methods_supported", [])) ==
          {"client_secret_basic", "client_secret_post", "none"})
    endpoints = ["authorization_endpoint", "token_endpoint", "revocation_endpoint", "introspection_endpoint",
                 "userinfo_endpoint", "jwks_uri"]
    check("... every endpoint under the issuer", all(metadata.get(e, "").startswith(issuer + "/") for e in endpoints))
    token_endpoint = metadata["token_endpoint"].replace(issuer, token_host)
    jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"]).json())
    published = [key.as_dict() for key in jwks.keys]
    check("the JWKS has an ES256 P-256 key", any(k.get("crv") == "P-256" and k.get("alg") == "ES256" for k in published))
    rsa = [key for key in jwks.keys if key.key_type == "RSA"]
    check("... and an RS256 RSA key of 2048 bits or more, public parts only",
          rsa and all(k.as_dict().get("alg") == "RS256" and
                      len(base64.urlsafe_b64decode(k.as_dict()["n"] + "==")) * 8 >= 2048 and
                      "d" not in k.as_dict() for k in rsa), published)
    check("... each key's kid its RFC 7638 thumbprint, as joserfc computes it",
          all(key.kid == key.thumbprint() for key in jwks.keys), published)
    check("discovery offers RS256 first for ID tokens, and ES256",
          metadata.get("id_token_signing_alg_values_supported") == ["RS256", "ES256"], metadata)

    def introspect(token):
        return requests.post(metadata["introspection_endpoint"], data={"token": token},
                             auth=(args.confidential_client, args.confidential_secret)).json()

    print("==> Authorization code + PKCE, public client (authlib)")
    browser = Browser(args.redirect_uri)
    client = OAuth2Session(args.public_client, scope="openid profile email", redirect_uri=args.redirect_uri,
                           code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    kind, page = browser.go(url)
    check("an unsigned-in user is sent to the sign-in page", kind == "page" and "/login" in page.url and
          'name="password"' in page.text, browser.hops[-2:])
    check("... which is HTML with frame-ancestors 'none', X-Frame-Options and no-referrer",
          "frame-ancestors 'none'" in page.headers.get("Content-Security-Policy", "") and
          page.headers.get("X-Frame-Options") == "DENY" and page.headers.get("Referrer-Policy") == "no-referrer")
    check("... and no CORS header", "Access-Control-Allow-Origin" not in page.headers)
    wrong = browser.sign_in(page, args.user, "not-the-password")
    check("a wrong password shows the same page with one message", wrong[0] == "page" and
          wrong[1].status_code == 401 and "The email or password is not right." in wrong[1].text)
    unknown = browser.sign_in(wrong[1], "nobody@example.com", "whatever-password")
    check("... an unknown email the very same message",
          unknown[0] == "page" and "The email or password is not right." in unknown[1].text)
    kind, page = browser.sign_in(unknown[1], args.user, args.password)
    check("signing in follows a 303 (never 307) back to the request",
          any(hop[0] == "POST" and hop[1].endswith("/login") and hop[2] == 303 for hop in browser.hops))
    session_cookie = next((c for c in browser.session.cookies if "gatehouse_session" in c.name), None)
    check("... with an HttpOnly session cookie", session_cookie is not None and
          session_cookie.has_nonstandard_attr("HttpOnly"))
    check("a user who has not accepted the privacy notice sees it first",
          kind == "page" and "/privacy-notice" in page.url, browser.hops[-3:])
    kind, page = browser.accept_privacy_notice(page)
    check("... then the consent page, naming the client and the scopes",
          kind == "page" and "Allow" in page.text and "<code>openid</code>" in page.text and
          "<code>email</code>" in page.text, page.text[:400] if kind == "page" else page)
    kind, callback = browser.decide(page, "allow")
    check("allowing redirects to the client with 303", kind == "callback" and browser.hops[-1][2] == 303, callback)
    params = query(callback)
    check("... with code, the same state and iss", params.get("state") == state and "code" in params and
          params.get("iss") == issuer, params)
    token = client.fetch_token(token_endpoint, authorization_response=callback, code_verifier=verifier)
    check("authlib exchanges the code: access, refresh and ID tokens",
          token.get("token_type") == "Bearer" and "refresh_token" in token and "id_token" in token, token.keys())
    check("... with the granted scopes", set(token.get("scope", "").split()) == {"openid", "profile", "email"})

    access = jwt.decode(token["access_token"], jwks, algorithms=["ES256"])
    check("joserfc verifies the access token's signature against the JWKS (ES256, at+jwt, kid)",
          access.header.get("alg") == "ES256" and access.header.get("typ") == "at+jwt" and
          access.header.get("kid") in {k.kid for k in jwks.keys}, access.header)
    claims = access.claims
    check("... its claims: iss, aud, sub, client_id, scope, jti, workspace_id, whole-second times",
          claims.get("iss") == issuer and claims.get("aud") == issuer and claims.get("client_id") == args.public_client
          and claims.get("jti") and claims.get("workspace_id") and isinstance(claims.get("exp"), int) and
          isinstance(claims.get("iat"), int) and claims["exp"] - claims["iat"] == 900, claims)
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    check("joserfc verifies the ID token against the JWKS: RS256, a client's default",
          decoded.header.get("alg") == "RS256" and decoded.header.get("kid") in {k.kid for k in rsa}, decoded.header)
    identity = decoded.claims
    check("... the ID token: aud is the client, the nonce comes back, email and name by scope",
          identity.get("aud") == args.public_client and identity.get("nonce") == nonce and
          identity.get("email") == args.user and identity.get("name") and identity.get("sub") == claims.get("sub")
          and isinstance(identity.get("auth_time"), int), identity)

    digest = hashlib.sha256(token["access_token"].encode("ascii")).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    check("... and at_hash, the left half of the access token's SHA-256 (OIDC Core 3.3.2.11)",
          identity.get("at_hash") == at_hash, identity)

    bearer = {"Authorization": "Bearer " + token["access_token"]}
    me = requests.get(issuer + "/api/v1/me", headers=bearer)
    check("the access token works on /api/v1 like an API key", me.status_code == 200 and
          me.json().get("email") == args.user, me.text)
    users = requests.get(issuer + "/api/v1/users", headers=bearer)
    check("... but never beyond the user's role (a plain user cannot list users)", users.status_code == 403 and
          users.json().get("error") == "forbidden", users.text)
    userinfo = requests.get(metadata["userinfo_endpoint"], headers=bearer).json()
    check("userinfo answers sub, name and email", userinfo.get("sub") == claims["sub"] and
          userinfo.get("email") == args.user, userinfo)
    posted = requests.post(metadata["userinfo_endpoint"], data={"access_token": token["access_token"]})
    check("... also to a POST with the token in a form body (RFC 6750 2.2)", posted.status_code == 200 and
          posted.json().get("sub") == claims["sub"], posted.text)
    info = introspect(token["access_token"])
    check("introspection says active, with scope, client_id, sub, workspace and times", info.get("active") is True and
          info.get("client_id") == args.public_client and info.get("sub") == claims["sub"] and
          info.get("token_type") == "Bearer" and info.get("exp") == claims["exp"], info)

    print("==> Consent is remembered; refresh rotation and reuse detection")
    client2 = OAuth2Session(args.public_client, scope="openid email", redirect_uri=args.redirect_uri,
                            code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier2 = secrets.token_urlsafe(48)
    url2, state2 = client2.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier2)
    kind, callback2 = browser.go(url2)
    check("a second request for allowed scopes skips the consent page", kind == "callback" and
          query(callback2).get("state") == state2, callback2 if kind == "callback" else callback2.text[:300])
    token2 = client2.fetch_token(token_endpoint, authorization_response=callback2, code_verifier=verifier2)
    check("... and asks for no more than it needs", set(token2["scope"].split()) == {"openid", "email"})
    refreshed = client.refresh_token(token_endpoint, refresh_token=token["refresh_token"])
    check("authlib refreshes: a new refresh token every time", refreshed.get("refresh_token") and
          refreshed["refresh_token"] != token["refresh_token"])
    narrow = client.refresh_token(token_endpoint, refresh_token=refreshed["refresh_token"], scope="openid")
    check("... a narrower scope may be asked for", narrow.get("scope") == "openid", narrow)
    reuse = requests.post(token_endpoint, data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                                "client_id": args.public_client})
    check("reusing a rotated refresh token is invalid_grant", reuse.status_code == 400 and
          reuse.json().get("error") == "invalid_grant" and reuse.headers.get("Cache-Control") == "no-store", reuse.text)
    after = requests.post(token_endpoint, data={"grant_type": "refresh_token", "refresh_token": narrow["refresh_token"],
                                                "client_id": args.public_client})
    check("... and revokes the whole family: the newest refresh token is dead too",
          after.json().get("error") == "invalid_grant", after.text)
    check("... and so is its access token", introspect(narrow["access_token"]).get("active") is False)
    check("the other grant is untouched", introspect(token2["access_token"]).get("active") is True)

    print("==> Code replay and PKCE")
    verifier3 = secrets.token_urlsafe(48)
    url3, _ = client2.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier3)
    _, callback3 = browser.go(url3)
    code3 = query(callback3)["code"]
    wrong_verifier = requests.post(token_endpoint, data={
        "grant_type": "authorization_code", "code": code3, "redirect_uri": args.redirect_uri,
        "client_id": args.public_client, "code_verifier": secrets.token_urlsafe(48)})
    check("a wrong code_verifier is invalid_grant", wrong_verifier.json().get("error") == "invalid_grant")
    first = requests.post(token_endpoint, data={
        "grant_type": "authorization_code", "code": code3, "redirect_uri": args.redirect_uri,
        "client_id": args.public_client, "code_verifier": verifier3}).json()
    check("the right one gets tokens", "access_token" in first, first)
    replay = requests.post(token_endpoint, data={
        "grant_type": "authorization_code", "code": code3, "redirect_uri": args.redirect_uri,
        "client_id": args.public_client, "code_verifier": verifier3})
    check("a replayed code is invalid_grant", replay.json().get("error") == "invalid_grant", replay.text)
    check("... and what the first exchange issued is revoked", introspect(first["access_token"]).get("active") is False)

    print("==> Confidential client: client_secret_basic, client_secret_post, client_credentials")
    for method in ("client_secret_basic", "client_secret_post"):
        confidential = OAuth2Session(args.confidential_client, args.confidential_secret, scope="openid profile",
                                     redirect_uri=args.redirect_uri, code_challenge_method="S256",
                                     token_endpoint_auth_method=method)
        verifier4 = secrets.token_urlsafe(48)
        url4, state4 = confidential.create_authorization_url(metadata["authorization_endpoint"],
                                                             code_verifier=verifier4)
        kind, page4 = browser.go(url4)
        if kind == "page":
            kind, page4 = browser.decide(page4, "allow")
        check(f"{method}: the code comes back", kind == "callback" and query(page4).get("state") == state4)
        token4 = confidential.fetch_token(token_endpoint, authorization_response=page4, code_verifier=verifier4)
        check(f"... and authlib exchanges it", "access_token" in token4 and "refresh_token" in token4, token4)
    es256 = jwt.decode(token4["id_token"], jwks, algorithms=["ES256"])
    check("a client registered for ES256 ID tokens gets them, and joserfc verifies them against the JWKS",
          es256.header.get("alg") == "ES256" and es256.claims.get("aud") == args.confidential_client, es256.header)
    wrong_secret = requests.post(token_endpoint, data={"grant_type": "client_credentials"},
                                 auth=(args.confidential_client, "wrong"))
    check("a wrong secret is 401 invalid_client with a Basic challenge", wrong_secret.status_code == 401 and
          wrong_secret.json().get("error") == "invalid_client" and
          wrong_secret.headers.get("WWW-Authenticate", "").startswith("Basic"), wrong_secret.text)
    service = OAuth2Session(args.confidential_client, args.confidential_secret, scope="clients:read")
    machine = service.fetch_token(token_endpoint, grant_type="client_credentials")
    check("client_credentials gets an access token and no refresh token",
          "access_token" in machine and "refresh_token" not in machine and machine.get("scope") == "clients:read",
          machine)
    machine_claims = jwt.decode(machine["access_token"], jwks, algorithms=["ES256"]).claims
    check("... whose sub is the client", machine_claims.get("sub") == args.confidential_client)
    listing = requests.get(issuer + "/api/v1/clients", headers={"Authorization": "Bearer " + machine["access_token"]})
    check("... and which reads clients with that scope", listing.status_code == 200, listing.text)

    print("==> Revocation and introspection")
    service.revoke_token(metadata["revocation_endpoint"], machine["access_token"], token_type_hint="access_token")
    check("an access token revoked with authlib (RFC 7009) introspects inactive",
          introspect(machine["access_token"]).get("active") is False)
    check("... and stops working on the API at once",
          requests.get(issuer + "/api/v1/clients",
                       headers={"Authorization": "Bearer " + machine["access_token"]}).status_code == 401)
    client2.revoke_token(metadata["revocation_endpoint"], token2["refresh_token"], token_type_hint="refresh_token")
    check("revoking a refresh token revokes its access token too",
          introspect(token2["access_token"]).get("active") is False)
    unknown = requests.post(metadata["revocation_endpoint"], data={"token": "nothing", "client_id": args.public_client})
    check("revoking an unknown token is still 200", unknown.status_code == 200)
    check("introspecting garbage is active: false", introspect("garbage") == {"active": False})

    print("==> Errors that go back to the client, and errors that must not")
    verifier5 = secrets.token_urlsafe(48)
    url5, state5 = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier5)
    kind, consent = browser.go(url5 + "&prompt=consent")
    denied_kind, denied = (kind, consent) if kind == "callback" else browser.decide(consent, "deny")
    check("denying the consent page redirects access_denied with state and iss",
          denied_kind == "callback" and query(denied).get("error") == "access_denied" and
          query(denied).get("state") == state5 and query(denied).get("iss") == issuer, denied)
    bad_redirect = url5.replace("redirect_uri=", "redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb&x=")
    kind, page = browser.go(bad_redirect)
    check("an unregistered redirect_uri is an error page, never a redirect", kind == "page" and
          page.status_code == 400 and "text/html" in page.headers.get("Content-Type", ""), page)
    no_pkce = re.sub(r"&code_challenge=[^&]+&code_challenge_method=S256", "", url5)
    kind, refused = browser.go(no_pkce)
    check("a public client without PKCE gets invalid_request at its redirect URI",
          kind == "callback" and query(refused).get("error") == "invalid_request", refused)
    plain = url5.replace("code_challenge_method=S256", "code_challenge_method=plain")
    kind, refused = browser.go(plain)
    check("... and plain PKCE is refused", kind == "callback" and query(refused).get("error") == "invalid_request")
    other = OAuth2Session(args.other_workspace_client, scope="openid", redirect_uri=args.redirect_uri,
                          code_challenge_method="S256", token_endpoint_auth_method="none")
    url6, _ = other.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier5)
    kind, refused = browser.go(url6)
    check("a user of another workspace is refused with access_denied",
          kind == "callback" and query(refused).get("error") == "access_denied", refused)

    if args.deactivate_command:
        print("==> A deactivated user")
        verifier7 = secrets.token_urlsafe(48)
        url7, _ = client2.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier7)
        _, callback7 = browser.go(url7)
        token7 = client2.fetch_token(token_endpoint, authorization_response=callback7, code_verifier=verifier7)
        check("before: the token is active", introspect(token7["access_token"]).get("active") is True)
        subprocess.run(args.deactivate_command, shell=True, check=True, stdout=subprocess.DEVNULL)
        check("deactivating the user makes their access token inactive at once",
              introspect(token7["access_token"]).get("active") is False)
        gone = requests.post(token_endpoint, data={"grant_type": "refresh_token",
                                                   "refresh_token": token7["refresh_token"],
                                                   "client_id": args.public_client})
        check("... and their refresh token is refused", gone.json().get("error") == "invalid_grant", gone.text)
        check("... and their session is over: authorizing asks to sign in again",
              "/login" in browser.go(url7)[1].url)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
