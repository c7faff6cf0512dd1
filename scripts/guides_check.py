#!/usr/bin/env python3
"""Walks the README as a newcomer does: starts the server with the README's first command, then runs every
`sh` block of the set-up paragraph and of each guide, in order, in one shell in the project folder, exactly as
written but for the port (8080 becomes the test's own). The steps that need a person in a browser are played:

- `python3 examples/oauth_login.py` opens "the browser" through `$BROWSER`, which here is
  scripts/guide-browser: it signs in as the user the guide made, accepts the privacy notice and allows.
- `<!-- guide-test: authorize as EMAIL; VAR -->` after a step that prints an authorization URL: the URL is
  opened as that user (the admin's password is the one the test chose), allowed, and the code it comes back
  with is put in the shell's VAR.

A block followed by a `json` block must print JSON with the same fields; one followed by a `text` block, lines
that begin as those do.

Usage: guides_check.py --readme README.md --port PORT --admin-password PW
Prints `N passed, N failed` last.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlparse

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_checks import check, summary  # noqa: E402
from oauth_client_check import Browser  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DONE = "__guide_block_done__"


def sections(readme):
    """[(heading, [(kind, text)])], kind being a fence's language or 'directive'; the set-up paragraph before
    the first guide is the section 'set-up'."""
    result, current = [], ("set-up", [])
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            result.append(current)
            current = (line[3:].strip(), [])
        elif line.strip().startswith("```") and line.strip() != "```":
            language = line.strip()[3:].strip()
            indent = len(line) - len(line.lstrip())
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i][indent:])
                i += 1
            current[1].append((language, "\n".join(body)))
        elif (directive := re.search(r"<!-- guide-test: (.*?) -->", line)):
            current[1].append(("directive", directive.group(1)))
        i += 1
    result.append(current)
    return result


class Shell:
    """One bash in the project folder, kept between blocks so variables carry, stopping at the first error."""

    def __init__(self, env, errors):
        # What a person would read on the terminal's standard error (progress meters among it) goes to a file
        # of its own: the checks read standard output.
        self.errors = errors
        self.process = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(errors, "w"), text=True, bufsize=1)
        self.run("set -eo pipefail")

    def recent_errors(self):
        with open(self.errors) as file:
            return "".join(file.readlines()[-15:])

    def run(self, script):
        """Runs script; returns (ok, output)."""
        # On a line of its own, whether or not the output ended its last line (curl's JSON does not).
        self.process.stdin.write(script + f"\nprintf '\\n%s\\n' {DONE}\n")
        self.process.stdin.flush()
        output = []
        for line in self.process.stdout:
            if line.rstrip("\n") == DONE:
                return True, "".join(output)
            output.append(line)
        return False, "".join(output)

    def value(self, name):
        ok, output = self.run(f'printf "%s\\n" "${name}"')
        return output.strip() if ok else ""

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def same_shape(example, actual):
    """The top-level fields of the documented JSON are those of the answer."""
    try:
        shown = json.loads(example.replace("…", ""))
    except json.JSONDecodeError:
        shown = None
    try:
        got = json.loads(actual)
    except json.JSONDecodeError:
        return False
    if isinstance(shown, dict) and isinstance(got, dict):
        return sorted(shown) == sorted(got)
    return True


def authorize_redirect(url, email, password):
    """Plays the browser: signs in, accepts the privacy notice, allows; the redirect URI it comes back to, with
    its query, or None."""
    redirect_uri = parse_qs(urlparse(url).query)["redirect_uri"][0]
    browser = Browser(redirect_uri)
    kind, page = browser.go(url)
    if kind == "page" and "/login" in page.url:
        kind, page = browser.sign_in(page, email, password)
    if kind == "page" and "/privacy-notice" in page.url:
        kind, page = browser.accept_privacy_notice(page)
    if kind == "page":
        kind, page = browser.decide(page, "allow")
    return page if kind == "callback" else None


def authorize(url, email, password):
    """The code of the redirect `authorize_redirect` comes back to."""
    callback = authorize_redirect(url, email, password)
    return parse_qs(urlparse(callback).query).get("code", [None])[0] if callback else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readme", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--admin-password", required=True)
    args = parser.parse_args()
    issuer = f"http://127.0.0.1:{args.port}"
    readme = open(args.readme).read()
    parts = sections(readme)

    def local(text):
        return text.replace("127.0.0.1:8080", f"127.0.0.1:{args.port}").replace(
            "127.0.0.1%3A8080", f"127.0.0.1%3A{args.port}")

    # The README's two set-up commands: the first starts the server, the second is the test run this is part of.
    first = next(text for kind, text in parts[0][1] if kind == "sh").splitlines()
    check("the README opens with `swift run gatehouse serve` and `scripts/test`",
          first[0].startswith("swift run gatehouse serve") and first[1].startswith("scripts/test"), first)
    env = dict(os.environ)
    server_log = open(os.path.join(os.environ["GUIDE_WORK"], "server.log"), "w")
    server = subprocess.Popen(["bash", "-c", "exec " + first[0].split("#")[0].strip()], cwd=root, env=env,
                              stdout=server_log, stderr=subprocess.STDOUT)
    try:
        ready = False
        for _ in range(600):
            try:
                ready = requests.get(issuer + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                pass
            if ready:
                break
            time.sleep(0.5)
        check("`swift run gatehouse serve` serves on a fresh install", ready)
        if not ready:
            return summary()

        passwords = {"admin@localhost": args.admin_password}
        shell = Shell(env, os.path.join(os.environ["GUIDE_WORK"], "shell.err"))
        for heading, blocks in parts:
            if not (heading == "set-up" or heading.startswith("Guide:")):
                continue
            print(f"  -- {heading}")
            last_output = ""
            serve_block_seen = heading != "set-up"
            for index, (kind, text) in enumerate(blocks):
                if kind == "sh" and not serve_block_seen:
                    serve_block_seen = True  # the server and the test run, above
                    continue
                if kind == "directive":
                    found = re.fullmatch(r"authorize as (\S+); (\w+)", text)
                    url = next((line for line in last_output.splitlines() if "/oauth/authorize?" in line), None)
                    code = authorize(url, found.group(1), passwords[found.group(1)]) if found and url else None
                    check(f"{heading}: the browser step ({text}) comes back with a code", code is not None, url)
                    if code:
                        shell.run(f"{found.group(2)}={code}")
                    continue
                if kind != "sh":
                    continue
                for password, email in re.findall(
                        r"printf '%s\\n' '([^']+)' \| gatehouse users create .*?--email (\S+)", text, re.S):
                    passwords[email] = password
                # What the played browser (scripts/guide-browser) signs in with; not part of the guide.
                shell.run(f"export GUIDE_PASSWORDS='{json.dumps(passwords)}'")
                ok, output = shell.run(local(text))
                output = output.removesuffix("\n")
                last_output = output
                check(f"{heading}: `{text.strip().splitlines()[0][:90]}` runs", ok,
                      f"{output}\n{shell.recent_errors()}")
                if not ok:
                    return summary()
                following = blocks[index + 1] if index + 1 < len(blocks) else None
                if following and following[0] == "json":
                    answer = output.strip().splitlines()[-1] if output.strip() else ""
                    check(f"{heading}: ... and answers the documented fields", same_shape(following[1], answer),
                          f"documented: {following[1]}\nanswered: {output}")
                elif following and following[0] == "text":
                    # The block's last command prints what the guide shows: its lines begin as those do, in order.
                    expected = [line.split(" ")[0] for line in following[1].splitlines() if line.strip()]
                    printed = [line.split(" ")[0] for line in output.splitlines() if line.strip()]
                    check(f"{heading}: ... and prints what the guide shows",
                          printed[-len(expected):] == expected, f"documented: {expected}\nprinted: {output}")
        shell.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
