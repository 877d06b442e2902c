#!/usr/bin/env python3
"""Checks chatroute-replay against the reference model on one dumped seed.

    CHATROUTE_MODEL_SEED=12 CHATROUTE_MODEL_DUMP=s12.jsonl chatroute_model_tests "the engine agrees*"
    chatroute-replay s12.jsonl > s12.out
    compare_replay.py s12.out s12.jsonl      # reads s12.jsonl.events and s12.jsonl.errors

Exit status 0 when the replay tool printed the model's events and errors exactly.
Every event of SPEC §10 is compared field by field in the order printed, the 2026-11-29
ones included (priority_changed's whole-number priority, skills_relaxed, transferred's
space and reason, availability_changed's auto_return and assignee_unresponsive reasons).
"""
import json
import re
import sys


def as_model_line(obj):
    """A replay event object in the differential test's text form: name{at=…, key=value, …}."""
    name = obj[0][1]
    parts = []
    for key, value in obj[1:]:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:  # no event field is null; print it so that a difference shows
            value = "null"
        elif isinstance(value, list):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        elif key in ("text", "resolution"):
            value = "'" + value + "'"
        parts.append(f"{key}={value}")
    return f"{name}{{{', '.join(parts)}}}"


def main(replay_out, dump):
    events, errors = [], []
    for line in open(replay_out):
        obj = json.loads(line, object_pairs_hook=list, parse_float=str, parse_int=str)
        if obj[0][0] == "event":
            events.append(as_model_line(obj))
        else:  # {"at":…,"error":…,"line":N}: the model's file has no "at"
            errors.append(json.dumps({k: (int(v) if k == "line" else v) for k, v in obj if k != "at"},
                                     separators=(",", ":")))
    model_events = [re.sub(r", ref=\d+", "", l.rstrip("\n")) for l in open(dump + ".events")]
    model_errors = [l.rstrip("\n") for l in open(dump + ".errors")]
    ok = True
    for what, got, want in (("event", events, model_events), ("error", errors, model_errors)):
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                print(f"first {what} difference at #{i}:\n  replay: {a}\n  model:  {b}")
                ok = False
                break
        else:
            if len(got) != len(want):
                print(f"{what}s: replay printed {len(got)}, the model {len(want)}")
                ok = False
    print(f"{len(events)} events, {len(errors)} errors: " + ("identical" if ok else "DIFFERENT"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
