#!/usr/bin/env python3
"""Keeps docs/ in step with the code.

Usage: check_docs.py <repository root>

- Every ```cpp block in docs/lifecycle.md is quoted verbatim from
  include/chatroute/lifecycle.hpp: the table the engine runs and the timer rules.
- Every repository path the docs name (include/..., examples/..., tests/..., docs/...,
  detail/....hpp) exists.
"""

import pathlib
import re
import sys


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    problems = []

    header = (root / "include/chatroute/lifecycle.hpp").read_text()
    lifecycle = (root / "docs/lifecycle.md").read_text()
    quotes = re.findall(r"```cpp\n(.*?)```", lifecycle, re.S)
    if len(quotes) < 2:
        problems.append("docs/lifecycle.md: expected the lifecycle table and the timer rules quoted")
    for quote in quotes:
        if quote.strip() not in header:
            first = quote.strip().splitlines()[0]
            problems.append(f"docs/lifecycle.md: quote starting {first!r} is not in lifecycle.hpp any more")

    pattern = re.compile(r"(?<![\w/.])((?:include|examples|tests|docs)/[\w./-]*[\w/]|detail/\w+\.hpp)")
    for page in ("architecture.md", "lifecycle.md", "integration.md"):
        for path in sorted(set(pattern.findall((root / "docs" / page).read_text()))):
            candidates = [root / path, root / "include/chatroute" / path]
            if not any(candidate.exists() for candidate in candidates):
                problems.append(f"docs/{page}: names {path}, which does not exist")

    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"docs match the code ({len(quotes)} quotes checked)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
