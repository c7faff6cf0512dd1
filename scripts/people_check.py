#!/usr/bin/env python3
"""A person's account life in real headless Chromium (selenium), with mail through a real SMTP server (aiosmtpd
on loopback): an admin invites a user; the invitation arrives; its link sets a password; the user signs in and
turns on two-factor sign-in by scanning the QR code (decoded from the rendered page with zxing-cpp) and typing a
code computed by pyotp; signs out and in again with a code, then with a recovery code; forgets the password and
resets it by email.

Every check prints 'ok' or 'FAIL'; the last line is 'N passed, N failed'. Screenshots go to --screenshots.

Usage: people_check.py --binary PATH --templates DIR --screenshots DIR
"""

import argparse
import io
import os
import sys
import tempfile
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import zxingcpp
from aiosmtpd.controller import Controller
from PIL import Image
from selenium.webdriver.common.by import By

from browser_check import Page
from e2e_checks import check, summary
from mail_check import Inbox, free_port, link_in, serve, stop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--templates", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="gatehouse-people.")

    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    admin_password = "the admin's own long password"
    env = dict(os.environ, GATEHOUSE_SMTP_URL=f"smtp://localhost:{smtp_port}?tls=none",
               GATEHOUSE_MAIL_FROM="Gatehouse <noreply@example.test>", GATEHOUSE_ADMIN_EMAIL="root@example.test",
               GATEHOUSE_ADMIN_PASSWORD=admin_password)
    server, out = serve(args.binary, args.templates, folder, port, env, "server.out")
    admin = user = None
    try:
        admin = Page(base, args.screenshots)
        # She does all of it on her phone.
        user = Page(base, args.screenshots, width=390, height=844)
        run(admin, user, base, inbox, args.screenshots)
    finally:
        for page in (admin, user):
            if page:
                page.quit()
        stop(server, out)
        smtp.stop()
    log = open(os.path.join(folder, "server.out")).read()
    check("no password, link or code reached the server's output",
          admin_password not in log and "token=" not in log and "correct horse" not in log, log[-400:])
    return summary()


def choose_password(user, password):
    """Types a new password twice on a password link's page and sets it."""
    user.type("new_password", password)
    user.type("new_password_again", password)
    user.press("Set password")


def run(admin, user, base, inbox, shots):
    print("-- an admin invites a colleague")
    admin.open("/login")
    admin.sign_in("root@example.test", "the admin's own long password")
    if admin.path().startswith("/privacy-notice"):
        admin.press("I accept")
    admin.open("/admin/users/new")
    admin.type("name", "Noor Haddad")
    admin.type("email", "noor@example.test")
    admin.press("Save")
    check("adding her without a password shows her invitation once, and says it was emailed",
          admin.heading() == "Invitation for Noor Haddad" and "sent to noor@example.test too" in admin.text(),
          admin.text()[:300])
    shown = admin.secret()
    admin.shot("invitation")
    admin.open("/admin/users")
    check("the user list shows her as invited, and until when", "invited" in admin.text() and "until" in admin.text(),
          admin.text()[:400])

    check("the invitation arrives at the mail server", inbox.wait(1))
    invitation = inbox.messages[0]["message"] if inbox.messages else None
    link = link_in(invitation, base) if invitation else None
    check("... with the link the admin was shown", link is not None and link == shown, (link, shown))

    print("-- she chooses her password with the link")
    user.driver.get(link)
    check("the link opens 'Welcome — choose your password', on a page that fits her phone",
          user.heading() == "Welcome — choose your password" and user.fits_width(), user.heading())
    user.shot("choose-password")
    password = "noor's correct horse battery"
    choose_password(user, password)
    check("her password is set", user.heading() == "Your password is set", user.heading())
    user.press("Sign in")
    user.sign_in("noor@example.test", password)
    if user.path().startswith("/privacy-notice"):
        user.press("I accept")
    check("she signs in with it", user.path().startswith("/account"), user.path())

    print("-- she turns on two-factor sign-in with her phone")
    user.press("Set up two-factor sign-in")
    check("the set-up page shows a QR code and the key", user.heading() == "Two-factor sign-in"
          and user.driver.find_elements(By.CSS_SELECTOR, "svg.qr"), user.text()[:300])
    user.shot("two-factor-setup")
    picture = Image.open(io.BytesIO(user.driver.find_element(By.CSS_SELECTOR, "svg.qr").screenshot_as_png))
    decoded = [result.text for result in zxingcpp.read_barcodes(picture)]
    uri = decoded[0] if decoded else ""
    query = parse_qs(urlparse(uri).query)
    secret = (query.get("secret") or [""])[0]
    typed = user.driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
    check("a real decoder reads the QR code as an otpauth:// URI for her account",
          uri.startswith("otpauth://totp/Gatehouse:noor%40example.test?") and query.get("issuer") == ["Gatehouse"]
          and query.get("digits") == ["6"] and query.get("period") == ["30"], uri)
    check("... with the key the page shows for typing", secret and secret == typed, (secret, typed))
    check("the set-up page fits a phone's width", user.fits_width())
    totp = pyotp.TOTP(secret)
    now = time.time()
    user.type("code", totp.at(now))
    user.press("Turn two-factor sign-in on")
    codes = [element.text for element in user.driver.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
    check("a first code from pyotp turns it on, and shows ten recovery codes once",
          user.heading() == "Your recovery codes" and len(set(codes)) == 10 and user.fits_width(), user.text()[:300])
    user.shot("recovery-codes")
    user.press("I have kept them — continue")

    def sign_out_and_in(second):
        user.click(user.driver.find_element(By.CSS_SELECTOR, "form.signout button"))
        user.open("/login")
        user.sign_in("noor@example.test", password)
        asked = user.heading() == "Your code, please" and user.fits_width()
        user.type("code", second)
        user.press("Sign in")
        return asked

    print("-- she signs in again, with a code and then with a recovery code")
    # The code of the next 30-second step: the one of this step was used to turn it on, and is not taken twice.
    asked = sign_out_and_in(totp.at(now + 30))
    check("after her password she is asked for a code", asked)
    check("the next code from her app signs her in", user.path().startswith("/account"), user.path())
    asked = sign_out_and_in(codes[0])
    check("a recovery code signs her in instead", asked and user.path().startswith("/account"), user.path())
    user.open("/account/two-factor")
    check("... and is used up: nine are left", "9 of 10 recovery codes are unused" in user.text(), user.text()[:300])

    print("-- she forgets her password and resets it by email")
    user.click(user.driver.find_element(By.CSS_SELECTOR, "form.signout button"))
    user.open("/login")
    user.driver.find_element(By.LINK_TEXT, "Forgot your password?").click()
    user.type("email", "noor@example.test")
    user.press("Send me a link")
    check("the page says a link is on its way", "on its way" in user.text() and user.fits_width(), user.text()[:300])
    user.shot("forgot-password")
    check("the reset link arrives", inbox.wait(2))
    reset = link_in(inbox.messages[1]["message"], base) if len(inbox.messages) > 1 else None
    user.driver.get(reset)
    check("the link opens 'Choose a new password'", user.heading() == "Choose a new password", user.heading())
    new_password = "noor's fresh set of words"
    choose_password(user, new_password)
    check("her new password is set", user.heading() == "Your password is set", user.heading())
    user.press("Sign in")
    user.sign_in("noor@example.test", password)
    check("the old password no longer works", user.path().startswith("/login"), user.path())
    user.sign_in("noor@example.test", new_password)
    user.type("code", codes[1])
    user.press("Sign in")
    check("the new one does, with her second factor", user.path().startswith("/account"), user.path())


if __name__ == "__main__":
    sys.exit(main())
