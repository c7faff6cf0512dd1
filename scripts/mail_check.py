"""Gatehouse's mail against a real SMTP server, aiosmtpd, on loopback, as scripts/e2e-mail runs it.

Four servers, each with a throwaway certificate for `localhost` signed by a throwaway CA that Gatehouse is told
to trust (--smtp-ca-file): STARTTLS with AUTH, implicit TLS with AUTH, one that offers no STARTTLS, and one that
refuses every recipient. First `gatehouse mail test` through each; then the real server with mail configured:
an admin invites a user on the admin page, the invitation arrives, its link sets the password, the user signs
in; the forgotten-password form mails a reset link that works once; a refused message is recorded in the audit
trail; and neither the SMTP password nor any link is ever in the server's output.

Prints 'N passed, N failed' last and exits non-zero on any failure."""

import argparse
import datetime
import email
import email.policy
import html
import ipaddress
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from e2e_checks import check, summary

SMTP_USER = "gatehouse-mailer"
SMTP_PASSWORD = "smtp-s3cret-that-must-never-be-logged"


# aiosmtpd logs each session it ends on an error (the refused certificate, on purpose) with a traceback.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", category=DeprecationWarning)
# Said of the implicit-TLS listener, which aiosmtpd does not count as TLS.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


def recipient(message):
    """The one address of the To header, however it is written."""
    return message["To"].addresses[0].addr_spec if message and message["To"] else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def throwaway_certificates(folder, names=("localhost",), addresses=()):
    """A CA, and a certificate for the host names and IP addresses given (localhost by default) signed by it;
    returns (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse e2e CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (list(names) + list(addresses))[0])]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(name) for name in names]
            + [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(folder, name) for name in ("ca.pem", "cert.pem", "key.pem")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class Inbox:
    """An aiosmtpd handler that keeps each message with how it came: over TLS or not, authenticated as whom."""

    def __init__(self, refuse_recipients=False):
        self.messages = []
        self.refuse_recipients = refuse_recipients

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "tls": session.ssl is not None, "login": session.auth_data.login.decode() if session.authenticated else None,
            "message": email.message_from_bytes(envelope.original_content or envelope.content,
                                                policy=email.policy.default),
        })
        return "250 Message accepted"

    def wait(self, count, seconds=20):
        deadline = time.time() + seconds
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        return len(self.messages) >= count


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER \
        and auth_data.password.decode() == SMTP_PASSWORD
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def start_servers(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    servers = {}
    for name, kwargs in {
        "starttls": dict(tls_context=context, require_starttls=True, auth_required=True, auth_require_tls=True,
                         authenticator=authenticator),
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
        "tls": dict(ssl_context=context, auth_required=True, auth_require_tls=False, authenticator=authenticator),
        "plain": dict(),
        "refusing": dict(tls_context=context, require_starttls=True),
    }.items():
        inbox = Inbox(refuse_recipients=name == "refusing")
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
        controller.start()
        servers[name] = (controller, inbox, port)
    return servers


def serve(binary, templates, folder, port, env, output):
    """Starts `gatehouse serve` on `port` with its database in `folder`, and waits until it is ready; returns the
    process and the file its output goes to."""
    out = open(os.path.join(folder, output), "w")
    server = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--templates", templates, "--database",
         os.path.join(folder, "gatehouse.sqlite")], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(150):
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    return server, out


def stop(server, out):
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    out.close()


def body(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part else ""


def mail_test(binary, url, ca, to="ops@example.test", extra_env=None):
    args = [binary, "mail", "test", "--to", to, "--smtp-url", url, "--mail-from", "Gatehouse <noreply@example.test>"]
    if ca:
        args += ["--smtp-ca-file", ca]
    env = dict(os.environ, **(extra_env or {}))
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


class Page:
    """A browser as far as forms go: cookies, and each form's CSRF token."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def get(self, path, **kwargs):
        return self.session.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path, data):
        return self.session.post(self.base + path, data=data, allow_redirects=False, timeout=30)

    @staticmethod
    def field(text, name):
        found = re.search(r'<input type="hidden" name="%s" value="([^"]*)">' % re.escape(name), text)
        return html.unescape(found.group(1)) if found else None

    def sign_in(self, email_address, password):
        form = self.get("/login")
        return self.post("/login", {"csrf_token": self.field(form.text, "csrf_token"), "email": email_address,
                                    "password": password})

    def accept_privacy_notice(self):
        page = self.get("/privacy-notice")
        if page.status_code == 200:
            self.post("/privacy-notice", {"csrf_token": self.field(page.text, "csrf_token")})

    def set_password(self, link, password):
        path = link[len(self.base):]
        page = self.get(path)
        if page.status_code != 200:
            return page
        return self.post("/password", {"csrf_token": self.field(page.text, "csrf_token"),
                                       "token": self.field(page.text, "token"), "new_password": password,
                                       "new_password_again": password})


def link_in(message, base):
    found = re.search(re.escape(base) + r"/password\?token=[A-Za-z0-9_-]{43}", body(message, "plain"))
    return found.group(0) if found else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--templates", required=True)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="gatehouse-mail.")
    ca, cert, key = throwaway_certificates(folder)
    servers = start_servers(cert, key)
    credentials = f"{SMTP_USER}:{SMTP_PASSWORD}"

    print("==> gatehouse mail test, through each server")
    _, inbox, port = servers["starttls"]
    run = mail_test(args.binary, f"smtp://{credentials}@localhost:{port}", ca)
    check("STARTTLS with AUTH: the message is accepted", run.returncode == 0 and inbox.wait(1), run.stderr)
    if inbox.messages:
        got = inbox.messages[0]
        check("  it came over TLS, authenticated as the configured user",
              got["tls"] and got["login"] == SMTP_USER, got)
        check("  the envelope's sender and recipient", got["from"] == "noreply@example.test"
              and got["to"] == ["ops@example.test"], got)
        message = got["message"]
        check("  it has the From, To, Subject, Date and Message-ID headers",
              message["From"] == "Gatehouse <noreply@example.test>" and recipient(message) == "ops@example.test"
              and message["Subject"] == "Gatehouse test message" and message["Date"] and message["Message-ID"],
              dict(message.items()))
        check("  it is multipart/alternative, in plain text and HTML",
              message.get_content_type() == "multipart/alternative" and "its mail settings work" in body(message, "plain")
              and "<p>" in body(message, "html"))
    check("  the SMTP password is not printed", SMTP_PASSWORD not in run.stdout + run.stderr, run.stdout)

    _, inbox, port = servers["tls"]
    run = mail_test(args.binary, f"smtps://{credentials}@localhost:{port}", ca)
    check("implicit TLS with AUTH: the message is accepted", run.returncode == 0 and inbox.wait(1), run.stderr)
    if inbox.messages:
        # This listener speaks only TLS, so a message it took came over TLS.
        check("  authenticated as the configured user", inbox.messages[0]["login"] == SMTP_USER)

    _, inbox, port = servers["starttls"]
    run = mail_test(args.binary, f"smtp://{SMTP_USER}:wrong-password@localhost:{port}", ca)
    check("a wrong SMTP password is refused, and said so", run.returncode != 0 and "535" in run.stderr, run.stderr)
    run = mail_test(args.binary, f"smtp://{credentials}@localhost:{port}", None)
    check("a certificate from an untrusted CA is refused", run.returncode != 0 and len(inbox.messages) == 1,
          run.stderr)
    _, inbox, port = servers["plain"]
    run = mail_test(args.binary, f"smtp://{credentials}@localhost:{port}", ca)
    check("smtp:// refuses a server that offers no STARTTLS, before sending the password",
          run.returncode != 0 and "STARTTLS" in run.stderr and not inbox.messages, run.stderr)
    run = mail_test(args.binary, f"smtp://{credentials}@example.test:{port}?tls=none", ca)
    check("tls=none with a password is refused for a host that is not loopback",
          run.returncode != 0 and "clear" in run.stderr, run.stderr)
    run = mail_test(args.binary, f"smtp://localhost:{port}?tls=none", None)
    check("tls=none without a password sends to a relay on loopback", run.returncode == 0 and inbox.wait(1),
          run.stderr)
    closed = free_port()
    started = time.time()
    run = mail_test(args.binary, f"smtp://{credentials}@localhost:{closed}", ca)
    check("a server that is not there is said so, at once", run.returncode != 0 and time.time() - started < 20,
          run.stderr)

    print("==> The server: invitations and reset links by mail")
    _, inbox, smtp_port = servers["starttls"]
    already = len(inbox.messages)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = os.path.join(folder, "server")
    os.makedirs(data)
    admin_password = "an admin's long password"
    env = dict(os.environ, GATEHOUSE_SMTP_URL=f"smtp://{credentials}@localhost:{smtp_port}",
               GATEHOUSE_MAIL_FROM="Gatehouse <noreply@example.test>", GATEHOUSE_SMTP_CA_FILE=ca,
               GATEHOUSE_ADMIN_EMAIL="root@example.test", GATEHOUSE_ADMIN_PASSWORD=admin_password)
    server, out = serve(args.binary, args.templates, data, port, env, "server.out")
    try:
        admin = Page(base)
        check("the admin signs in", admin.sign_in("root@example.test", admin_password).status_code == 303)
        admin.accept_privacy_notice()
        form = admin.get("/admin/users/new")
        shown = admin.post("/admin/users", {"csrf_token": Page.field(form.text, "csrf_token"),
                                            "email": "dana@example.test", "name": "Dana Reyes", "role": "user"})
        check("adding a user without a password shows the invitation once, and says it was emailed",
              shown.status_code == 200 and "Invitation for Dana Reyes" in shown.text
              and "sent to dana@example.test too" in shown.text, shown.text[:400])
        shown_link = re.search(r'value="(http[^"]+)"', shown.text)
        shown_link = html.unescape(shown_link.group(1)) if shown_link else None
        check("the invitation arrives at the mail server", inbox.wait(already + 1))
        invitation = inbox.messages[-1]["message"] if len(inbox.messages) > already else None
        link = link_in(invitation, base) if invitation else None
        check("  to the user, with the link the admin was shown, in text and HTML",
              invitation is not None and recipient(invitation) == "dana@example.test" and link is not None
              and link == shown_link and link in html.unescape(body(invitation, "html")), (link, shown_link))
        dana = Page(base)
        done = dana.set_password(link, "dana's own words for this") if link else None
        check("the link sets the user's password", done is not None and done.status_code == 200
              and "Your password is set" in done.text, done.text[:300] if done is not None else "")
        check("the user signs in with it", Page(base).sign_in("dana@example.test", "dana's own words for this")
              .status_code == 303)
        again = Page(base).set_password(link, "another set of words") if link else None
        check("the link works once", again is not None and again.status_code == 404)

        forgot = Page(base)
        page = forgot.get("/login/forgot")
        answer = forgot.post("/login/forgot", {"csrf_token": Page.field(page.text, "csrf_token"),
                                               "email": "dana@example.test"})
        check("forgot password answers at once", answer.status_code == 200 and "on its way" in answer.text)
        check("the reset link arrives", inbox.wait(already + 2))
        reset = inbox.messages[-1]["message"] if len(inbox.messages) > already + 1 else None
        reset_link = link_in(reset, base) if reset else None
        check("  it is a reset link for the account", reset is not None and recipient(reset) == "dana@example.test"
              and reset_link is not None and "reset the password" in body(reset, "plain"))
        done = Page(base).set_password(reset_link, "a fresh start for dana") if reset_link else None
        check("the reset link sets a new password", done is not None and done.status_code == 200)
        check("the old password no longer signs in",
              Page(base).sign_in("dana@example.test", "dana's own words for this").status_code == 401)
        check("the new one does", Page(base).sign_in("dana@example.test", "a fresh start for dana").status_code == 303)
    finally:
        stop(server, out)
    log = open(os.path.join(data, "server.out")).read()
    check("the server's output holds no SMTP password and no link", SMTP_PASSWORD not in log
          and "token=" not in log and (link or "no-link") not in log, log[-600:])
    check("the server's output says where mail goes, without the password",
          f"smtp://{SMTP_USER}@localhost:{smtp_port}" in log, log[:600])

    print("==> The server: a message the mail server refuses")
    _, refusing, refusing_port = servers["refusing"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["GATEHOUSE_SMTP_URL"] = f"smtp://localhost:{refusing_port}"
    server, out = serve(args.binary, args.templates, data, port, env, "refused.out")
    try:
        admin = Page(base)
        admin.sign_in("root@example.test", admin_password)
        admin.accept_privacy_notice()
        form = admin.get("/admin/users/new")
        shown = admin.post("/admin/users", {"csrf_token": Page.field(form.text, "csrf_token"),
                                            "email": "eli@example.test", "name": "Eli Moss", "role": "user"})
        check("the admin still sees the invitation when the mail server refuses it",
              shown.status_code == 200 and "/password?token=" in shown.text)
        recorded = False
        for _ in range(100):
            audit = admin.get("/admin/audit?action=mail.failed")
            if "mail.failed" in audit.text and "550" in audit.text:
                recorded = True
                break
            time.sleep(0.2)
        check("the refusal is in the audit trail (mail.failed, with the server's answer)", recorded)
    finally:
        stop(server, out)
    log = open(os.path.join(data, "refused.out")).read()
    check("and in the log", "mail given up" in log, log[-600:])

    for controller, _, _ in servers.values():
        controller.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
