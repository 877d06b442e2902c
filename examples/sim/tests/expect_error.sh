#!/usr/bin/env bash
# expect_error.sh EXPECTED COMMAND...: passes when COMMAND exits non-zero, says EXPECTED
# (a plain substring) on stderr and prints nothing on stdout (no work was done).
set -u
expected=$1
shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
status=$?
if [ "$status" -eq 0 ]; then echo "FAIL: exit status 0; expected an error"; exit 1; fi
if ! grep -qF -- "$expected" "$err"; then
  echo "FAIL: stderr lacks: $expected"; echo "stderr was:"; cat "$err"; exit 1
fi
if [ -s "$out" ]; then echo "FAIL: something was printed on stdout:"; head -5 "$out"; exit 1; fi
echo "ok (exit $status): $(cat "$err")"
