#!/usr/bin/env python3
"""Keeps docs/ in step with the code.

Usage: check_docs.py <repository root>

- docs/lifecycle.md quotes, in ```cpp blocks, both tables of
  include/chatroute/lifecycle.hpp whole (`lifecycle`, the transitions the engine runs,
  and `timer_rules`, what each deadline does), each with its `///` line; and every
  ```cpp block it has is verbatim in lifecycle.hpp.
- Each table has as many rows as its std::array says (a short list would compile, the
  missing rows value-initialised).
- The ```mermaid state diagram has an arrow `from --> to: trigger (rules)` for every row
  of `lifecycle`, and no arrow between two statuses that the table lacks.
- Every TimerKind is named in docs/lifecycle.md (`kind`).
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
    quotes = [q.strip() for q in re.findall(r"```cpp\n(.*?)```", lifecycle, re.S)]
    for quote in quotes:
        if quote not in header:
            first = quote.splitlines()[0]
            problems.append(f"docs/lifecycle.md: quote starting {first!r} is not in lifecycle.hpp any more")

    tables = {}
    for element, name in (("Transition", "lifecycle"), ("TimerRule", "timer_rules")):
        found = re.search(r"((?:^///[^\n]*\n)+)?^inline constexpr std::array<" + element + r", (\d+)> " + name +
                          r"\{\{\n(.*?)^\}\};", header, re.S | re.M)
        if not found:
            problems.append(f"lifecycle.hpp: table {name} not found; update tests/docs/check_docs.py")
            continue
        block = found.group(0).strip()
        rows = re.findall(r"^\s*\{(.*?)\},?\s*$", found.group(3).replace("\n     ", " "), re.M)
        tables[name] = rows
        if len(rows) != int(found.group(2)):
            problems.append(f"lifecycle.hpp: {name} says {found.group(2)} rows and lists {len(rows)}")
        if not found.group(1):
            problems.append(f"lifecycle.hpp: {name} has no /// line saying what it is")
        if not any(block in quote for quote in quotes):
            problems.append(f"docs/lifecycle.md: does not quote lifecycle.hpp's {name} table whole")

    statuses = set(re.findall(r"\w+", re.search(r"enum class Status[^{]*\{(.*?)\}", header, re.S).group(1)))
    diagrams = "\n".join(re.findall(r"```mermaid\n(.*?)```", lifecycle, re.S))
    arrows = set(re.findall(r"^\s*(\w+) --> (\w+): (.*?)\s*$", diagrams, re.M))
    expected = set()
    for row in tables.get("lifecycle", []):
        cells = re.fullmatch(r'Status::(\w+), Trigger::(\w+), Status::(\w+), "([^"]*)"', row.strip())
        if not cells:
            problems.append(f"lifecycle.hpp: cannot read lifecycle row {row!r}; update tests/docs/check_docs.py")
            continue
        source, trigger, target, rules = cells.groups()
        expected.add((source, target, f"{trigger} ({rules})"))
    for source, target, label in sorted(expected - arrows):
        problems.append(f"docs/lifecycle.md: the diagram lacks {source} --> {target}: {label}")
    for source, target, label in sorted(arrows - expected):
        if source in statuses and target in statuses:
            problems.append(f"docs/lifecycle.md: the diagram has {source} --> {target}: {label}, not in the table")

    kinds = re.search(r"enum class TimerKind[^{]*\{(.*?)\}", header, re.S).group(1)
    for kind in re.findall(r"\w+", re.sub(r"//[^\n]*", "", kinds)):
        if f"`{kind}`" not in lifecycle:
            problems.append(f"docs/lifecycle.md: timer kind {kind} is not named")

    pattern = re.compile(r"(?<![\w/.])((?:include|examples|tests|docs)/[\w./-]*[\w/]|detail/\w+\.hpp)")
    for page in ("architecture.md", "lifecycle.md", "integration.md"):
        for path in sorted(set(pattern.findall((root / "docs" / page).read_text()))):
            candidates = [root / path, root / "include/chatroute" / path]
            if not any(candidate.exists() for candidate in candidates):
                problems.append(f"docs/{page}: names {path}, which does not exist")

    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"docs match the code ({len(quotes)} quotes, {len(expected)} diagram arrows checked)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
