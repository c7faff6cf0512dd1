"""The counting the Python end-to-end drivers share: each check prints 'ok' or 'FAIL', and `summary()` prints
the closing 'N passed, N failed' line and gives the exit status."""

counts = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        counts["passed"] += 1
        print(f"  ok   {name}")
    else:
        counts["failed"] += 1
        print(f"  FAIL {name}")
        if detail:
            print(f"       {str(detail)[:600]}")
    return condition


def summary():
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0
