#!/usr/bin/env python3
"""Keeps docs/api.md in step with include/chatroute/engine.hpp.

Usage: check_api.py <repository root>

- Every public command of Engine (a non-const member returning Result<...>) has its own
  "### `name`" section under "## Commands", and every such section names a command
  that exists. Each section says "- Errors:" and "- Events:".
- Every error code a section names is an enumerator of Error (error.hpp), and every
  event it names is an event's `name` (events.hpp); every event is listed somewhere.
- Every other public member (queries, snapshot, next_deadline, ...) is named in the
  page as `name(`, and every `name(` the Queries section names is a public member.
"""

import pathlib
import re
import sys


def public_members(engine):
    """(name, is_command) for each public member function of class Engine."""
    start = engine.index("class Engine {")
    public = engine.index("public:", start)
    private = engine.index("private:", public)
    section = engine[public:private]
    members = []
    # Declarations sit at the class's indentation (4 spaces); bodies are deeper.
    decl = re.compile(
        r"^    (?:\[\[nodiscard\]\] +)?(?:static +)?(?P<ret>\w[\w:<>,&* ]*?) +(?P<name>\w+)\((?P<params>[^)]*)\)"
        r"\s*(?P<const>const)?", re.M)
    for m in decl.finditer(section):
        ret = m.group("ret").strip()
        if ret in ("return", "using", "Engine") or m.group("name") == "Engine":
            continue
        command = ret.startswith("Result<") and not m.group("const")
        members.append((m.group("name"), command))
    return members


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    include = root / "include/chatroute"
    engine = (include / "engine.hpp").read_text()
    errors = set(re.findall(r"^\s+(\w+),", re.search(r"enum class Error[^{]*\{(.*?)\};",
                                                     (include / "error.hpp").read_text(), re.S).group(1), re.M))
    event_names = set(re.findall(r'static constexpr std::string_view name = "(\w+)"',
                                 (include / "events.hpp").read_text()))
    page = (root / "docs/api.md").read_text()
    problems = []

    members = public_members(engine)
    commands = {name for name, command in members if command}
    others = {name for name, command in members if not command}
    if len(commands) < 20:
        problems.append(f"engine.hpp: found only {len(commands)} commands; has the parser gone stale?")

    parts = re.split(r"^## ", page, flags=re.M)
    command_part = next((p for p in parts if p.startswith("Commands")), "")
    sections = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^### |\Z)", command_part, re.S | re.M))
    for name in sorted(commands - sections.keys()):
        problems.append(f"docs/api.md: command {name} (engine.hpp) is not documented")
    for name in sorted(sections.keys() - commands):
        problems.append(f"docs/api.md: documents command {name}, which engine.hpp does not have")

    for name, text in sorted(sections.items()):
        if f" {name}(" not in text:
            problems.append(f"docs/api.md: {name}: no signature")
        listed = re.search(r"^- Errors: (.*?)(?=^- |\Z)", text, re.S | re.M)
        told = re.search(r"^- Events: (.*?)(?=^- |\Z)", text, re.S | re.M)
        if not listed or not told:
            problems.append(f"docs/api.md: {name}: needs both '- Errors:' and '- Events:'")
            continue
        # Parenthesised words say which field or why: "`unknown_agent` (`to_agent`)".
        for code in re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", listed.group(1))):
            if code not in errors and code not in commands:
                problems.append(f"docs/api.md: {name}: error {code} is not in chatroute::Error")
        for event in re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", told.group(1))):
            if event not in event_names and event not in commands:
                problems.append(f"docs/api.md: {name}: {event} is not an event")
        named_events = [e for e in re.findall(r"`(\w+)`", told.group(1)) if e in event_names]
        if "none" not in told.group(1) and not named_events and "as `" not in told.group(1):
            problems.append(f"docs/api.md: {name}: names no event and does not say none")

    for event in sorted(event_names):
        if f"`{event}`" not in page:
            problems.append(f"docs/api.md: event {event} (events.hpp) is not listed")
    for name in sorted(others):
        if not re.search(rf"[`:]{name}\(", page):
            problems.append(f"docs/api.md: member {name} (engine.hpp) is not named")
    queries = next((p for p in parts if p.startswith("Queries")), "")
    for name in sorted(set(re.findall(r"`(\w+)\(", queries)) - commands - others):
        problems.append(f"docs/api.md: names {name}(), which Engine does not have")

    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"docs/api.md matches engine.hpp ({len(commands)} commands, {len(others)} other members)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
