#!/usr/bin/env python3
"""Drives a freshly started Gatehouse through its web pages in real headless Chromium (selenium), as an admin,
an integrator and a plain user would, and checks what they see and what the server then does.

Every check prints 'ok' or 'FAIL'; the last line is 'N passed, N failed', and the exit status is non-zero on
any failure. A screenshot of each main page is saved in --screenshots.

Usage: browser_check.py --base URL --admin-email EMAIL --admin-password PASSWORD --screenshots DIR
"""

import argparse
import base64
import hashlib
import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from e2e_checks import check, summary



class Page:
    """One Chromium window, with the few things the checks do in it."""

    def __init__(self, base, shots, width=1200, height=900):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={width},{height}", "--lang=en-US"]:
            options.add_argument(argument)
        service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(20)
        self.base = base
        self.shots = shots
        # The copy button writes to the clipboard; reading it back needs the permission a person would grant.
        origin = base.rstrip("/")
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    def open(self, path):
        self.driver.get(self.base + path)

    def path(self):
        parsed = urlparse(self.driver.current_url)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")

    def type(self, field_id, text):
        element = self.driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(text)

    def press(self, text, navigates=True):
        """Clicks the button with this text in the page's main part and, when it leads to another page, waits
        until that page has loaded."""
        for button in self.driver.find_elements(By.CSS_SELECTOR, "main button, main a.button"):
            if button.text.strip() == text:
                self.click(button, navigates)
                return
        raise AssertionError(f"no button '{text}' on {self.path()}")

    def click(self, element, navigates=True):
        # A mark on the current page's window: the next page has none. Asking while Chromium is between pages can
        # fail in more ways than a stale element, so every such error just means "not yet".
        self.driver.execute_script("window.gatehouseLeaving = true;")
        element.click()
        if navigates:
            WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,)).until(
                lambda driver: driver.execute_script(
                    "return window.gatehouseLeaving === undefined && document.readyState === 'complete';"))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def heading(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def nav(self):
        return [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "header nav a")]

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.shots, f"{name}.png"))

    def sign_in(self, email, password):
        self.type("email", email)
        self.type("password", password)
        self.press("Sign in")

    def secret(self):
        return self.driver.find_element(By.ID, "secret").get_attribute("value")

    def copy_secret(self):
        """Clicks Copy and reads the clipboard back, as a paste would."""
        self.press("Copy", navigates=False)
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.clipboard.readText().then(done, (error) => done('clipboard: ' + error));")

    def no_alert(self):
        try:
            self.driver.switch_to.alert
            return False
        except NoAlertPresentException:
            return True

    def fits_width(self):
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;")

    def quit(self):
        self.driver.quit()


class Callback(BaseHTTPRequestHandler):
    """The third-party app's redirect URI: a page that says the sign-in came back."""

    def do_GET(self):
        body = b"<!doctype html><title>Back at the app</title><h1>Back at the app</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def callback_server():
    """Serves the app's callback on a free loopback port for this run; returns (server, redirect URI)."""
    server = HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/callback"


def api(base, key, path="/api/v1/me"):
    return requests.get(base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    base = args.base.rstrip("/")
    os.makedirs(args.screenshots, exist_ok=True)
    admin = Page(base, args.screenshots)
    server, redirect_uri = callback_server()
    try:
        run(admin, base, args, redirect_uri)
    finally:
        admin.quit()
        server.shutdown()
    return summary()


def run(admin, base, args, redirect_uri):
    print("-- the bootstrap admin's first sign-in")
    admin.open("/admin")
    check("an anonymous visit to /admin is sent to sign in", admin.path().startswith("/login?return_to="),
          admin.path())
    admin.shot("sign-in")
    admin.sign_in(args.admin_email, "not-the-password")
    check("a wrong password is refused on the page, with one message",
          "The email or password is not right." in admin.text())
    admin.sign_in(args.admin_email, args.admin_password)
    check("the first sign-in asks for the privacy notice", admin.path().startswith("/privacy-notice"), admin.path())
    admin.shot("privacy-notice")
    admin.press("I accept")
    check("... then lands on API clients", admin.path() == "/admin/clients", admin.path())
    check("the navigation offers every section to a super admin",
          admin.nav() == ["API clients", "Resource servers", "Gatehouse API", "Users", "Scopes", "Audit log", "My account"],
          admin.nav())

    print("-- keyboard and focus")
    admin.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = admin.driver.switch_to.active_element
    check("the first Tab reaches 'Skip to content'", focused.text == "Skip to content", focused.text)
    outline = admin.driver.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle;")
    check("... and the focused element shows an outline", outline not in ("none", ""), outline)

    print("-- registering a client and copying its secret")
    admin.press("+ API client")
    admin.type("name", "Reports Dashboard")
    admin.type("client_id", "reports-dashboard")
    # A loopback redirect URI: the app picks its port when it runs (RFC 8252 §7.3).
    admin.type("redirect_uris", "http://127.0.0.1/callback")
    admin.shot("new-client")
    admin.press("Save")
    check("saving shows the secret once, with a warning",
          "This is the only time Gatehouse shows it" in admin.text(), admin.text())
    secret = admin.secret()
    admin.shot("client-secret")
    copied = admin.copy_secret()
    check("the Copy button puts the secret on the clipboard", copied == secret and len(secret) == 43, copied)
    check("... and says so", "Copied" in admin.driver.find_element(By.ID, "secret-status").text)
    introspection = requests.post(base + "/oauth/introspect", data={"token": "nothing"},
                                  auth=("reports-dashboard", copied), timeout=10)
    check("the copied secret authenticates the client", introspection.status_code == 200, introspection.text)
    admin.press("I have copied it — continue")
    check("continuing leads to the client's page", admin.path() == "/admin/clients/reports-dashboard", admin.path())
    check("the secret is not on the client's page", secret not in admin.driver.page_source)
    admin.click(admin.driver.find_element(By.CSS_SELECTOR, "input[name=resource_server]"), navigates=False)
    admin.press("Save")
    check("ticking Resource server and saving marks the client so",
          "The client application is saved." in admin.text() and "resource server" in admin.text(), admin.text())
    admin.shot("resource-server")
    admin.open("/admin/clients")
    check("the client is listed", "Reports Dashboard" in admin.text())
    admin.shot("clients")

    print("-- a service key: add, copy, revoke, reactivate")
    admin.open("/admin/clients/reports-dashboard")
    admin.press("Manage API keys")
    admin.type("name", "Nightly export")
    admin.press("Generate key")
    key = admin.copy_secret()
    check("the new service key is shown once and copied", key and key.startswith("gate_"), key)
    me = api(base, key)
    check("the service key works at once, as its client", me.status_code == 200
          and me.json().get("client_id") == "reports-dashboard", me.text)
    admin.press("I have copied it — continue")
    check("the key is listed as active, without its secret",
          "Nightly export" in admin.text() and key not in admin.driver.page_source)
    admin.shot("service-keys")
    admin.press("Revoke")
    check("revoking says so", "The key is revoked" in admin.text())
    check("... and the next request with it is refused", api(base, key).status_code == 401)
    admin.press("Reactivate")
    check("reactivating makes it work again", api(base, key).status_code == 200)

    print("-- a person to act for, and a user key")
    admin.open("/admin/users")
    admin.press("+ User")
    admin.type("name", "Una User")
    admin.type("email", "una@example.com")
    admin.type("password", "una-has-a-long-password")
    admin.press("Save")
    check("the user is saved", "The user is saved." in admin.text(), admin.text())
    admin.open("/admin/users?q=una")
    check("the search finds her", "una@example.com" in admin.text())
    admin.shot("users")
    admin.open("/admin/api-keys")
    Select(admin.driver.find_element(By.ID, "user_id")).select_by_visible_text(
        "Una User — una@example.com (user)")
    admin.type("name", "Una's script")
    admin.press("Generate key")
    user_key = admin.copy_secret()
    check("the user key is shown once and copied", user_key and user_key.startswith("gate_"), user_key)
    refused = api(base, user_key)
    check("her key waits until she accepts the privacy notice",
          refused.status_code == 403 and refused.json().get("error") == "privacy_notice_not_accepted", refused.text)
    admin.press("I have copied it — continue")
    admin.shot("gatehouse-api")

    print("-- a hostile name renders as text")
    admin.open("/admin/clients/new")
    admin.type("name", "<script>alert(1)</script>")
    admin.type("client_id", "hostile-app")
    admin.click(admin.driver.find_element(By.CSS_SELECTOR, "input[name=type][value=public]"), navigates=False)
    admin.press("Save")
    admin.open("/admin/clients")
    check("a client named <script>alert(1)</script> shows as text and runs nothing",
          "<script>alert(1)</script>" in admin.text() and admin.no_alert())
    admin.open("/admin/audit?action=client.created")
    check("the audit log lists the clients made", admin.text().count("client.created") >= 2, admin.text())
    admin.shot("audit-log")

    print("-- phone width")
    admin.driver.set_window_size(390, 844)
    for path in ["/admin/clients", "/admin/clients/reports-dashboard/keys", "/admin/users", "/admin/audit"]:
        admin.open(path)
        check(f"{path} fits a phone's width", admin.fits_width())
    admin.open("/admin/clients")
    admin.shot("clients-phone")
    admin.driver.set_window_size(1200, 900)

    print("-- a user signs in, accepts the privacy notice and allows the client")
    user = Page(base, args.screenshots)
    try:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({
            "response_type": "code", "client_id": "reports-dashboard", "redirect_uri": redirect_uri,
            "scope": "openid profile email", "state": "s-123", "code_challenge": challenge,
            "code_challenge_method": "S256",
        })
        user.open(f"/oauth/authorize?{query}")
        check("the authorization request asks her to sign in", user.path().startswith("/login"), user.path())
        user.sign_in("una@example.com", "una-has-a-long-password")
        check("... then to accept the privacy notice", user.path().startswith("/privacy-notice"), user.path())
        user.press("I accept")
        check("... then shows the consent page with the app's name",
              user.heading() == "Allow Reports Dashboard to act for you?", user.heading())
        check("... and each scope in words", "Read your email address." in user.text(), user.text())
        user.shot("consent")
        user.press("Allow")
        callback = urlparse(user.driver.current_url)
        parameters = parse_qs(callback.query)
        check("allowing sends the browser to the redirect URI with a code and the state",
              user.driver.current_url.startswith(redirect_uri) and parameters.get("state") == ["s-123"]
              and "code" in parameters and user.heading() == "Back at the app", user.driver.current_url)
        tokens = requests.post(base + "/oauth/token", data={
            "grant_type": "authorization_code", "code": parameters.get("code", [""])[0],
            "redirect_uri": redirect_uri, "code_verifier": verifier,
        }, auth=("reports-dashboard", secret), timeout=10)
        check("the code is exchanged for tokens with the copied secret",
              tokens.status_code == 200 and "id_token" in tokens.json(), tokens.text)
        check("her user key works now that she accepted the notice", api(base, user_key).status_code == 200)
        described = requests.post(base + "/oauth/introspect", data={"token": user_key},
                                  auth=("reports-dashboard", secret), timeout=10)
        check("the resource server learns about her key by introspection",
              described.json().get("active") is True and described.json().get("token_type") == "api_key",
              described.text)

        print("-- the app signs her out of Gatehouse (RP-Initiated Logout), and she is asked first")
        signed_out = redirect_uri.replace("/callback", "/signed-out")
        admin.open("/admin/clients/reports-dashboard")
        admin.type("post_logout_redirect_uris", signed_out)
        admin.press("Save")
        check("the admin registers where the app may send people after signing out",
              signed_out in admin.text(), admin.text()[:300])
        user.driver.set_window_size(390, 844)
        user.open("/oauth/logout?" + urlencode({"client_id": "reports-dashboard", "state": "bye",
                                                "post_logout_redirect_uri": signed_out}))
        check("without an ID token hint she is asked whether to sign out",
              user.heading() == "Sign out of Gatehouse?" and "Reports Dashboard" in user.text(), user.heading())
        check("... on a page that fits a phone's width", user.fits_width())
        user.shot("logout-phone")
        user.driver.set_window_size(1200, 900)
        user.press("Stay signed in")
        check("staying signed in goes back to the app, with its state",
              user.driver.current_url == signed_out + "?state=bye" and user.heading() == "Back at the app",
              user.driver.current_url)

        print("-- a plain user is refused the admin pages")
        user.open("/account")
        check("her navigation offers only her account", user.nav() == ["My account"], user.nav())
        check("her account lists the allowed app and her key",
              "Reports Dashboard" in user.text() and "Una's script" in user.text(), user.text())
        user.shot("account")
        check("her account lists this browser among where she is signed in",
              "Where you are signed in" in user.text() and "this browser" in user.text(), user.text())
        user.driver.set_window_size(390, 844)
        user.open("/account")
        check("/account, with its sessions table, fits a phone's width", user.fits_width())
        user.shot("account-phone")
        user.driver.set_window_size(1200, 900)
        for path in ["/admin/clients", "/admin/api-keys", "/admin/users", "/admin/audit",
                     "/admin/clients/reports-dashboard/keys"]:
            user.open(path)
            check(f"{path} is refused to her", user.heading() == "You may not open this page", user.heading())
        user.shot("refused")
        user.open("/account")
        user.press("Withdraw")
        check("she can withdraw the app", "no longer acts for you" in user.text())
        introspected = requests.post(base + "/oauth/introspect", data={"token": tokens.json().get("access_token")},
                                     auth=("reports-dashboard", secret), timeout=10)
        check("... which ends its tokens", introspected.json().get("active") is False, introspected.text)
        user.click(user.driver.find_element(By.CSS_SELECTOR, "form.signout button"))
        check("signing out returns to the sign-in page", user.path() == "/login", user.path())
    finally:
        user.quit()


if __name__ == "__main__":
    sys.exit(main())
