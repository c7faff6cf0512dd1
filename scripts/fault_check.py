#!/usr/bin/env python3
"""The client side of scripts/e2e-faults: load that records every write the server acknowledged, checks that
it all survived a crash or a database restart, and a soak of mixed load.

Usage:
  fault_check.py writes --base URL[,URL] --key KEY --user-id ID --client ID --secret S --families FILE
                 --journal FILE [--seconds N]
      Creates API keys and rotates refresh-token families from several threads, spread over the instances,
      until the server stops answering (or N seconds pass). Each acknowledged write is appended to the journal
      (flushed and fsync'd before the next request): `key <id> <key>` and `refresh <family> <token>`. A request
      still unanswered when the server died is `inflight refresh <family>`.
  fault_check.py verify --base URL --key KEY --client ID --secret S --families FILE --journal FILE
                 [--next-families FILE]
      Checks every acknowledged key is there and works, and every family's last acknowledged refresh token is
      still active — or the family had a rotation in flight, which may have committed unseen. With
      --next-families, writes there each family's active token, for another round.
  fault_check.py soak --base URL --key KEY --client ID --secret S --user EMAIL --password PW --seconds N
      Sign-ins, authorization-code flows, refreshes, API-key calls and introspection from several threads.
      Prints the count of each, and fails on any 5xx, any other unexpected answer, or any exception.

Each prints `N passed, N failed` last.
"""

import argparse
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_flows import code, exchange, signed_in  # noqa: E402
from e2e_checks import check, summary  # noqa: E402


class Journal:
    """An append-only record of acknowledged writes, on disk before the next request goes out."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, line):
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()
            os.fsync(self.file.fileno())


def writes(args):
    bases = args.base.split(",")
    families = open(args.families).read().split()
    journal = Journal(args.journal)
    stop = time.monotonic() + args.seconds
    unexpected = []

    def alive():
        return time.monotonic() < stop and not unexpected

    def create_keys(number):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {args.key}"
        base = bases[number % len(bases)]
        while alive():
            try:
                answer = session.post(f"{base}/api/v1/users/{args.user_id}/api-keys",
                                      json={"name": f"crash {number}"}, timeout=60)
            except requests.RequestException:
                return  # the server is gone
            if answer.status_code == 201:
                body = answer.json()
                journal.write(f"key {body['id']} {body['key']}")
            elif answer.status_code not in (503,):
                unexpected.append(f"key creation: {answer.status_code} {answer.text[:200]}")

    def rotate(number):
        session = requests.Session()
        token = families[number]
        base = bases[number % len(bases)]
        while alive():
            journal.write(f"inflight refresh {number}")
            try:
                answer = session.post(f"{base}/oauth/token", data={
                    "grant_type": "refresh_token", "refresh_token": token}, auth=(args.client, args.secret),
                    timeout=60)
            except requests.RequestException:
                return
            if answer.status_code == 200:
                token = answer.json()["refresh_token"]
                journal.write(f"refresh {number} {token}")
            elif answer.status_code not in (503,):
                unexpected.append(f"refresh: {answer.status_code} {answer.text[:200]}")
                return

    threads = [threading.Thread(target=create_keys, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=rotate, args=(n,)) for n in range(len(families))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check("no write got an answer other than success (or 503 while the database was away)", not unexpected,
          "\n".join(unexpected[:5]))


def verify(args):
    families = open(args.families).read().split()
    keys, last, inflight, rotations = {}, {}, set(), 0
    for line in open(args.journal, encoding="utf-8"):
        parts = line.split()
        if parts[0] == "key":
            keys[parts[1]] = parts[2]
        elif parts[0] == "refresh":
            last[int(parts[1])] = parts[2]
            inflight.discard(int(parts[1]))
            rotations += 1
        elif parts[0] == "inflight":
            inflight.add(int(parts[2]))
    print(f"       {len(keys)} keys and {rotations} rotations acknowledged; {len(inflight)} rotations in flight "
          "at the end")
    check("some writes were acknowledged before the end", len(keys) > 0 and len(last) > 0)
    session = requests.Session()
    missing, refused = [], []
    for key_id, key in keys.items():
        answer = session.get(f"{args.base}/api/v1/api-keys/{key_id}", headers={"Authorization": f"Bearer {args.key}"},
                             timeout=30)
        if answer.status_code != 200 or answer.json().get("status") != "active":
            missing.append(f"{key_id}: {answer.status_code} {answer.text[:120]}")
        answer = session.get(f"{args.base}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        if answer.status_code != 200:
            refused.append(f"{key_id}: {answer.status_code} {answer.text[:120]}")
    check("every acknowledged key is listed, active", not missing, "\n".join(missing[:5]))
    check("every acknowledged key authenticates", not refused, "\n".join(refused[:5]))
    lost, active_tokens = [], []
    for number, original in enumerate(families):
        token = last.get(number, original)
        answer = session.post(f"{args.base}/oauth/introspect", data={"token": token},
                              auth=(args.client, args.secret), timeout=30)
        active = answer.status_code == 200 and answer.json().get("active") is True
        if active:
            active_tokens.append(token)
        if not active and number not in inflight:
            lost.append(f"family {number}: its last acknowledged refresh token is not active ({answer.text[:120]})")
    check("every family's last acknowledged refresh token is active, unless a rotation was in flight", not lost,
          "\n".join(lost[:5]))
    if args.next_families:
        with open(args.next_families, "w") as file:
            file.write("".join(token + "\n" for token in active_tokens))


def soak(args):
    stop = time.monotonic() + args.seconds
    counts, problems, lock = {}, [], threading.Lock()

    def note(kind, answer, expected=(200,)):
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
            if answer.status_code not in expected:
                problems.append(f"{kind}: {answer.status_code} {answer.text[:200]}")

    def guarded(work):
        def run():
            while time.monotonic() < stop:
                try:
                    work()
                except Exception as error:  # an exception is a finding too: a dropped connection, a bad body
                    with lock:
                        problems.append(f"{work.__name__}: {type(error).__name__}: {error}")
                    time.sleep(0.5)
        return run

    key_session = requests.Session()
    key_session.headers["Authorization"] = f"Bearer {args.key}"
    introspector = requests.Session()
    introspector.auth = (args.client, args.secret)
    tokens = []

    def sign_ins():
        browser = signed_in(args)  # bcrypt: deliberately slow
        with lock:
            counts["sign-in"] = counts.get("sign-in", 0) + 1
        note("account page", browser.session.get(f"{args.base}/account", timeout=30))

    def code_flows():
        browser = signed_in(args)
        while time.monotonic() < stop:
            code_value, verifier = code(browser, args)
            body = exchange(browser.session, args, code_value, verifier)
            with lock:
                counts["code flow"] = counts.get("code flow", 0) + 1
                tokens[:] = (tokens + [body["access_token"]])[-50:]
            refresh = body["refresh_token"]
            for _ in range(5):
                answer = browser.session.post(f"{args.base}/oauth/token", data={
                    "grant_type": "refresh_token", "refresh_token": refresh}, auth=(args.client, args.secret),
                    timeout=30)
                note("refresh", answer)
                if answer.status_code != 200:
                    break
                refresh = answer.json()["refresh_token"]
                note("userinfo", browser.session.get(f"{args.base}/oauth/userinfo", headers={
                    "Authorization": f"Bearer {answer.json()['access_token']}"}, timeout=30))

    def key_calls():
        for path in ("/api/v1/me", "/api/v1/users", "/api/v1/api-keys?status=active", "/api/v1/clients"):
            note("key call", key_session.get(args.base + path, timeout=30))

    def introspection():
        with lock:
            token = tokens[-1] if tokens else args.key
        answer = introspector.post(f"{args.base}/oauth/introspect", data={"token": token}, timeout=30)
        note("introspection", answer)
        if answer.status_code == 200 and answer.json().get("active") is not True:
            with lock:
                problems.append(f"introspection: a live credential is not active: {answer.text[:200]}")

    threads = [threading.Thread(target=guarded(work)) for work in
               (sign_ins, code_flows, code_flows, key_calls, key_calls, introspection)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("       " + ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())))
    check("every kind of request ran", all(counts.get(kind, 0) > 0 for kind in
                                           ("sign-in", "code flow", "refresh", "key call", "introspection")),
          counts)
    check("no 5xx, no unexpected answer, no exception", not problems, "\n".join(problems[:10]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["writes", "verify", "soak"])
    for name in ("--base", "--client", "--secret"):
        parser.add_argument(name, required=True)
    parser.add_argument("--key")
    for name in ("--user-id", "--families", "--next-families", "--journal", "--user", "--password"):
        parser.add_argument(name)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    args.base = args.base.rstrip("/")
    {"writes": writes, "verify": verify, "soak": soak}[args.what](args)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
