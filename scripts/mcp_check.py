#!/usr/bin/env python3
"""An MCP server behind Gatehouse, and the official MCP Python SDK's client signing a user in to reach it.

Two roles, one file:

- `serve`: a small MCP server (the SDK's MCPServer over streamable HTTP) that trusts Gatehouse: it publishes
  its protected resource metadata (RFC 9728) naming Gatehouse, and accepts only JWT access tokens that
  Gatehouse signed (checked against the JWKS with joserfc), for its own URL as `aud` (RFC 8707), unexpired,
  with its scope.
- `documents`: an https server on loopback, with a throwaway CA, serving client metadata documents
  (draft-ietf-oauth-client-id-metadata-document): a good one, and the ones Gatehouse must refuse (naming another
  client_id, redirecting, oversized, too slow).
- `check`: the SDK's `OAuthClientProvider` connects to it with no credentials. It discovers the server and
  Gatehouse, registers itself (dynamically, RFC 7591) — or, with `--metadata-url`, names itself by its metadata
  document —, runs authorization code with PKCE and `resource`, and calls a tool; a scripted browser (requests)
  signs the user in and consents, as scripts/e2e-oauth does. Then the guards of the document fetch, refused.

Every check prints 'ok' or 'FAIL'; the last line is 'N passed, N failed'.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlparse

import requests

from e2e_checks import check, summary
from mail_check import throwaway_certificates
from oauth_client_check import Browser


# MARK: the MCP server


def serve(args):
    import uvicorn
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.context import Context

    resource = f"http://127.0.0.1:{args.port}/mcp"

    class GatehouseTokens:
        """Verifies Gatehouse's access tokens locally: signature by the JWKS, issuer, audience, expiry."""

        def __init__(self):
            self.keys = None

        async def verify_token(self, token):
            if self.keys is None:
                self.keys = KeySet.import_key_set(requests.get(args.issuer + "/oauth/jwks", timeout=5).json())
            try:
                claims = jwt.decode(token, self.keys, algorithms=["ES256", "RS256"]).claims
            except (JoseError, ValueError):
                return None
            if claims.get("iss") != args.issuer or claims.get("aud") != resource or claims.get("exp", 0) <= time.time():
                return None
            return AccessToken(
                token=token, client_id=claims["client_id"], scopes=claims.get("scope", "").split(),
                expires_at=claims["exp"], resource=claims["aud"], subject=claims["sub"])

    server = MCPServer(
        name="gatehouse-e2e", token_verifier=GatehouseTokens(),
        auth=AuthSettings(issuer_url=args.issuer, resource_server_url=resource, required_scopes=[args.scope]))

    @server.tool()
    def whoami(ctx: Context) -> str:
        """Who the token acts for."""
        from mcp.server.auth.middleware.auth_context import get_access_token

        token = get_access_token()
        return f"{token.subject} via {token.client_id} with {' '.join(token.scopes)}"

    app = server.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


# MARK: the metadata documents


def documents(args):
    """Serves the metadata documents over https until killed; counts requests per path in hits.json."""
    os.makedirs(args.folder, exist_ok=True)
    ca, cert, key = throwaway_certificates(args.folder, names=("localhost",), addresses=("127.0.0.1",))
    base = f"https://127.0.0.1:{args.port}"
    hits = {}
    lock = threading.Lock()

    def document(path, client_id=None, name="MCP e2e client (metadata document)"):
        return json.dumps({
            "client_id": client_id or base + path, "client_name": name, "client_uri": "https://example.com",
            "redirect_uris": [args.callback], "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "none"}).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_GET(self):
            with lock:
                hits[self.path] = hits.get(self.path, 0) + 1
                with open(os.path.join(args.folder, "hits.json"), "w") as f:
                    json.dump(hits, f)
            if self.path == "/client.json":
                self.answer(200, document(self.path), {"Cache-Control": "max-age=300"})
            elif self.path == "/other.json":
                self.answer(200, document(self.path, client_id=base + "/client.json"))
            elif self.path == "/redirect.json":
                self.answer(302, b"", {"Location": base + "/client.json"})
            elif self.path == "/big.json":
                padding = "x" * 64 * 1024
                self.answer(200, document(self.path, name="big " + padding[:150]) + b" " * 64 * 1024)
            elif self.path == "/slow.json":
                time.sleep(8)
                self.answer(200, document(self.path))
            else:
                self.answer(404, b"{}")

        def answer(self, status, body, headers=None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(os.path.join(args.folder, "ready"), "w") as f:
        f.write("ready")
    server.serve_forever()


# MARK: the client


class Storage:
    """The SDK's token storage, in memory."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


async def connect(args, redirect_uri, metadata_url=None):
    """Connects the SDK's client to the MCP server, signing the user in when asked; returns what it saw."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    seen = {"authorize": None, "callback": None}
    browser = Browser(redirect_uri)

    async def redirect_handler(url):
        seen["authorize"] = url
        kind, page = await asyncio.to_thread(browser.go, url)
        for _ in range(4):
            if kind == "callback":
                break
            if 'action="/login"' in page.text:
                kind, page = await asyncio.to_thread(browser.sign_in, page, args.user, args.password)
            elif 'action="/privacy-notice"' in page.text:
                kind, page = await asyncio.to_thread(browser.accept_privacy_notice, page)
            elif 'action="/oauth/authorize/decision"' in page.text:
                seen["consent"] = page.text
                kind, page = await asyncio.to_thread(browser.decide, page, "allow")
            else:
                raise AssertionError(f"unexpected page: {page.status_code} {page.text[:300]}")
        seen["callback"] = page if kind == "callback" else None

    async def callback_handler():
        query = {k: v[0] for k, v in parse_qs(urlparse(seen["callback"]).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    storage = Storage()
    provider = OAuthClientProvider(
        server_url=args.mcp_url,
        client_metadata=OAuthClientMetadata(
            redirect_uris=[redirect_uri], client_name="MCP e2e client",
            grant_types=["authorization_code", "refresh_token"], response_types=["code"]),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler,
        client_metadata_url=metadata_url)
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(args.mcp_url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("whoami", {})
                seen["tool"] = " ".join(getattr(block, "text", "") for block in result.content)
    seen["storage"] = storage
    return seen


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def run_checks(args):
    redirect_uri = "http://127.0.0.1:33418/callback"

    # No credentials: the server says where its metadata is, which names Gatehouse.
    bare = requests.post(args.mcp_url, json={}, headers={"Accept": "application/json, text/event-stream"}, timeout=10)
    challenge = bare.headers.get("WWW-Authenticate", "")
    check("the MCP server refuses a request without a token, naming its resource metadata",
          bare.status_code == 401 and "resource_metadata=" in challenge, f"{bare.status_code} {challenge}")

    seen = asyncio.run(connect(args, redirect_uri))
    info = seen["storage"].client_info
    authorize = query_of(seen["authorize"] or "")
    check("the SDK registered itself dynamically and got a public client (no secret, auth method none)",
          info is not None and info.client_id.startswith("app-") and info.client_secret is None
          and info.token_endpoint_auth_method == "none", repr(info))
    run_flow_checks(args, seen, info, redirect_uri, name="MCP e2e client")

    # Registration management (RFC 7592), which the SDK does not use, with requests: read back, delete.
    registered = requests.post(args.issuer + "/oauth/register", json={
        "redirect_uris": [redirect_uri], "client_name": "Short-lived"}, timeout=10).json()
    bearer = {"Authorization": f"Bearer {registered.get('registration_access_token')}"}
    uri = registered.get("registration_client_uri", "")
    read = requests.get(uri, headers=bearer, timeout=10)
    check("a registration reads back with its registration access token",
          read.status_code == 200 and read.json().get("client_id") == registered.get("client_id"), read.text[:300])
    deleted = requests.delete(uri, headers=bearer, timeout=10)
    gone = requests.get(uri, headers=bearer, timeout=10)
    check("and is deleted with it", deleted.status_code == 204 and gone.status_code == 401,
          f"{deleted.status_code} {gone.status_code}")

    if args.documents:
        run_document_checks(args, redirect_uri)
    if args.device_client:
        run_device_checks(args)


def run_flow_checks(args, seen, info, redirect_uri, name):
    authorize = query_of(seen["authorize"] or "")
    check("the authorization request carries PKCE S256 and the MCP server as resource",
          authorize.get("code_challenge_method") == "S256" and authorize.get("resource") == args.mcp_url,
          repr(authorize))
    check("the consent page names the app and the MCP server's API",
          name in seen.get("consent", "") and "MCP e2e server" in seen.get("consent", ""),
          seen.get("consent", "")[:400])
    tokens = seen["storage"].tokens
    check("the SDK holds an access token and a refresh token", tokens is not None and bool(tokens.refresh_token))
    check("the tool ran as the user, through the registered client, with the resource's scope",
          seen.get("tool", "").endswith(f"via {info.client_id} with {args.scope}") if info else False,
          seen.get("tool"))

    # The token is for the MCP server only: Gatehouse's own API refuses it.
    me = requests.get(args.issuer + "/api/v1/me", headers={"Authorization": f"Bearer {tokens.access_token}"}, timeout=10)
    check("Gatehouse's own API refuses the MCP server's token", me.status_code == 401, f"{me.status_code}")

    # Refresh for the same resource, as the SDK does when the token runs out.
    refreshed = requests.post(args.issuer + "/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens.refresh_token, "client_id": info.client_id,
        "resource": args.mcp_url}, timeout=10)
    check("the refresh token rotates for the same resource", refreshed.status_code == 200
          and refreshed.json().get("refresh_token") not in (None, tokens.refresh_token), refreshed.text[:300])


def run_device_checks(args):
    """RFC 8628: a CLI polls the token endpoint while a scripted browser types its code and allows it."""
    started = requests.post(args.issuer + "/oauth/device_authorization",
                            data={"client_id": args.device_client, "scope": "openid profile"}, timeout=10)
    body = started.json()
    check("the device authorization endpoint hands out a device code and a user code to type",
          started.status_code == 200 and len(body.get("user_code", "")) == 9 and body.get("interval") == 5,
          started.text[:300])
    answers, result = [], {}

    def device():
        interval = body["interval"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            polled = requests.post(args.issuer + "/oauth/token", data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": body["device_code"],
                "client_id": args.device_client}, timeout=10)
            error = polled.json().get("error")
            answers.append(error or "tokens")
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                result.update(polled.json())
                return
            time.sleep(interval)

    poller = threading.Thread(target=device)
    poller.start()
    while not answers and poller.is_alive():
        time.sleep(0.1)
    browser = Browser("http://device.invalid/")
    kind, page = browser.go(body["verification_uri_complete"])
    if 'action="/login"' in page.text:
        kind, page = browser.sign_in(page, args.user, args.password)
    typed = browser.form(page, "/device")
    check("the verification page comes with the code filled in", typed.get("csrf_token") and
          f'value="{body["user_code"]}"' in page.text, page.text[:300])
    kind, confirm = browser.go(urljoin(page.url, "/device"), "POST", dict(typed, user_code=body["user_code"]))
    check("it asks the person to allow the device, naming the client", "Allow E2E CLI on your device?" in confirm.text,
          confirm.text[:400])
    decision = browser.form(confirm, "/device/decision")
    decision["decision"] = "allow"
    kind, done = browser.go(urljoin(confirm.url, "/device/decision"), "POST", decision)
    check("the person allows it", "Device connected" in done.text, done.text[:300])
    poller.join(100)
    check("the polling device was told to wait until then, and got tokens after",
          answers[:1] == ["authorization_pending"] and answers[-1] == "tokens" and "access_token" in result,
          repr(answers) + repr(result)[:300])
    me = requests.get(args.issuer + "/api/v1/me", headers={"Authorization": f"Bearer {result.get('access_token')}"},
                      timeout=10)
    check("the device acts as the person who allowed it", me.status_code == 200 and me.json().get("email") == args.user,
          me.text[:300])


def hits(args):
    try:
        with open(os.path.join(args.documents, "hits.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run_document_checks(args, redirect_uri):
    """The SDK naming itself by its metadata document, then the fetch's guards."""
    base = f"https://127.0.0.1:{args.documents_port}"
    seen = asyncio.run(connect(args, redirect_uri, metadata_url=base + "/client.json"))
    info = seen["storage"].client_info
    authorize = query_of(seen["authorize"] or "")
    check("with a metadata document, the SDK's client_id is its URL, and nothing was registered",
          authorize.get("client_id") == base + "/client.json" and info is not None
          and info.client_id == base + "/client.json", repr(authorize))
    check("Gatehouse fetched the document once, over https from the allowed host", hits(args).get("/client.json") == 1,
          repr(hits(args)))
    run_flow_checks(args, seen, info, redirect_uri, name="127.0.0.1:" + str(args.documents_port))

    # The guards: each request is an error page, never a redirect to the app.
    def refused(client_id, reason, why):
        answer = requests.get(args.issuer + "/oauth/authorize", params={
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"},
            allow_redirects=False, timeout=20)
        check(f"refused: {why}", answer.status_code == 400 and reason in answer.text and "Location" not in answer.headers,
              f"{answer.status_code} {answer.text[-600:]}")

    refused(base + "/other.json", "does not name its own URL", "a document naming another client_id")
    refused(base + "/redirect.json", "does not follow redirects", "a redirect")
    refused(base + "/big.json", "larger than", "an oversized document")
    started = time.monotonic()
    refused(base + "/slow.json", "did not arrive within", "a document slower than the timeout")
    check("the slow document was given up within the timeout", time.monotonic() - started < 7.5,
          f"{time.monotonic() - started:.1f} s")
    before = dict(hits(args))
    refused(f"https://localhost:{args.documents_port}/client.json", "private, loopback or reserved",
            "a name that resolves to a loopback address (checked after DNS resolution)")
    refused("https://10.0.0.1/client.json", "private, loopback or reserved", "a private address")
    refused("https://169.254.169.254/latest/meta-data/client", "private, loopback or reserved",
            "the link-local cloud metadata address")
    refused("https://[::1]/client.json", "private, loopback or reserved", "the IPv6 loopback")
    check("no refused address was connected to", hits(args) == before, f"{before} then {hits(args)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "documents", "check"])
    parser.add_argument("--folder")
    parser.add_argument("--callback", default="http://127.0.0.1:33418/callback")
    parser.add_argument("--documents", help="the documents server's folder, to run the metadata document checks")
    parser.add_argument("--documents-port", type=int)
    parser.add_argument("--device-client", help="a public client registered for the device grant")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--mcp-url")
    parser.add_argument("--scope", default="mcp:tools")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args)
        return
    if args.mode == "documents":
        documents(args)
        return
    try:
        run_checks(args)
    except Exception as error:  # a crash is a failure, with its cause
        import traceback

        check("the MCP client connects through Gatehouse", False, "".join(traceback.format_exception(error))[-3000:])
    summary()


if __name__ == "__main__":
    main()
