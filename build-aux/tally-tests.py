#!/usr/bin/env python3
"""Adds the results of one `meson test` run (its testlog.json) to a tally
file, or prints the tally as the closing line 'N passed, N failed', after
the name of every test that did not pass (so the tail of a CI log names
them)."""
import json
import sys


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--print":
        passed = failed = skipped = 0
        names = []
        try:
            with open(sys.argv[2]) as f:
                for line in f:
                    if line.startswith("not passed: "):
                        names.append(line[len("not passed: "):].rstrip("\n"))
                        continue
                    p, fl, s = (int(x) for x in line.split())
                    passed, failed, skipped = passed + p, failed + fl, skipped + s
        except FileNotFoundError:
            pass
        for name in names:
            print(f"tests: not passed: {name}")
        print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
        return 0

    testlog, tally = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    names = []
    with open(testlog) as f:
        for line in f:
            entry = json.loads(line)
            result = entry.get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
                duration = entry.get("duration") or 0
                names.append(f"{entry.get('name')} ({result}, {duration:.1f} s)")
                # The TAP lines that say which case failed, or where it stopped.
                out = (entry.get("stdout") or "").splitlines()
                cases = [l for l in out if l.startswith(("not ok", "Bail out"))]
                if not cases:
                    cases = [l for l in out if l.startswith("ok ")][-1:]
                    cases = [f"last passed: {c}" for c in cases]
                names.extend(f"  {c[:200]}" for c in cases[:3])
    with open(tally, "a") as f:
        f.write(f"{passed} {failed} {skipped}\n")
        for name in names:
            f.write(f"not passed: {name}\n")
    return 0


sys.exit(main())
