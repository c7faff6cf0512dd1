#!/usr/bin/env python3
"""Sign in with Gatehouse: a complete OAuth 2.0 authorization-code login with PKCE, as a native or command-line
app does it (RFC 8252), in Python's standard library alone.

    gatehouse clients create --id example-cli --name "Example CLI" --type public \
        --redirect-uri http://127.0.0.1/callback
    python3 examples/oauth_login.py --issuer http://127.0.0.1:8080 --client-id example-cli

It reads the issuer's metadata and opens the browser at the authorization endpoint. It listens on a loopback
port for the redirect, checks `state` and `iss`, and exchanges the code (with the PKCE verifier) for tokens.
Then it calls userinfo and the Gatehouse API with the access token, and refreshes once.

Not shown, and needed by a real app: verifying the ID token's signature against the JWKS (use a JOSE library
such as joserfc or PyJWT), and keeping the refresh token somewhere safe.
"""

import argparse
import base64
import hashlib
import http.server
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
import webbrowser


def get_json(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def post_form(url, fields):
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:  # RFC 6749 §5.2: {"error", "error_description"}
        sys.exit(f"the token endpoint refused: {json.load(error)}")


def claims(jwt):
    """A JWT's claims, *unverified*: fine for showing them, never for trusting them."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class RedirectListener(http.server.HTTPServer):
    """Listens on 127.0.0.1 for the browser coming back; `port` 0 lets the system choose a free one, which a
    loopback redirect URI may name (RFC 8252 §7.3)."""

    def __init__(self, port):
        self.received = {}
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                listener.received.update(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write("Signed in. You can close this tab.\n".encode())

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)

    def wait(self):
        """Serves the one request of the redirect and returns its query parameters."""
        self.handle_request()
        return self.received


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issuer", default="http://127.0.0.1:8080")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--scope", default="openid profile email")
    parser.add_argument("--port", type=int, default=0,
                        help="the loopback port to receive the redirect on (default: one the system picks)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL instead of opening it")
    args = parser.parse_args()

    # 1. Discovery (RFC 8414): every endpoint comes from the issuer's metadata.
    metadata = get_json(args.issuer.rstrip("/") + "/.well-known/oauth-authorization-server")

    # 2. PKCE (RFC 7636): a fresh secret verifier, and its S256 challenge in the request.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    # A loopback redirect URI may name any port (RFC 8252 §7.3); the client registers it without one.
    listener = RedirectListener(args.port)
    redirect_uri = f"http://127.0.0.1:{listener.server_address[1]}/callback"
    url = metadata["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": args.client_id, "redirect_uri": redirect_uri, "scope": args.scope,
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    print(f"Sign in at: {url}", flush=True)
    if not args.no_browser:
        webbrowser.open(url)

    # 3. The browser comes back with the code (or an error), the same state, and the issuer (RFC 9207).
    with listener:
        answer = listener.wait()
    if answer.get("state") != state:
        sys.exit("the state does not match: not our request")
    if answer.get("iss") != metadata["issuer"]:
        sys.exit("the response names another issuer: a mix-up attack?")
    if "error" in answer:
        sys.exit(f"authorization failed: {answer['error']}: {answer.get('error_description', '')}")

    # 4. The code and the verifier, for tokens. A public client authenticates with its client_id alone.
    tokens = post_form(metadata["token_endpoint"], {
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect_uri,
        "code_verifier": verifier, "client_id": args.client_id})
    print(f"Granted: {tokens['scope']} (the access token lives {tokens['expires_in']} seconds)")
    id_claims = claims(tokens["id_token"]) if "id_token" in tokens else {}
    if id_claims and id_claims.get("nonce") != nonce:
        sys.exit("the ID token's nonce does not match")
    print(f"Signed in as user {id_claims.get('sub')} ({id_claims.get('email', 'no email scope')})")

    # 5. The access token at userinfo and at the API: it carries the user's rights, never more.
    print("userinfo:", json.dumps(get_json(metadata["userinfo_endpoint"], tokens["access_token"])))
    me = get_json(args.issuer.rstrip("/") + "/api/v1/me", tokens["access_token"])
    print(f"/api/v1/me: {me['name']} <{me['email']}>, role {me['role']}")

    # 6. Refresh: a new access token, and a new refresh token; the old one is spent (rotation).
    refreshed = post_form(metadata["token_endpoint"], {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": args.client_id})
    print(f"Refreshed: a new access token, and a new refresh token: {refreshed['refresh_token'] != tokens['refresh_token']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
