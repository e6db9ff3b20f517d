#!/usr/bin/env python3
"""Adds the results of one `meson test` run (its testlog.json) to a tally
file, or prints the tally as the closing line 'N passed, N failed'."""
import json
import sys


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--print":
        passed = failed = skipped = 0
        try:
            with open(sys.argv[2]) as f:
                for line in f:
                    p, fl, s = (int(x) for x in line.split())
                    passed, failed, skipped = passed + p, failed + fl, skipped + s
        except FileNotFoundError:
            pass
        print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
        return 0

    testlog, tally = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    with open(testlog) as f:
        for line in f:
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    with open(tally, "a") as f:
        f.write(f"{passed} {failed} {skipped}\n")
    return 0


sys.exit(main())
