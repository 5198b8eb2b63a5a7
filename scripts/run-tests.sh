#!/bin/bash
# run-tests.sh - set up, build with warnings as errors, and run every test
# (make check: cmocka unit tests, MPI tests at 1, 2 and 4 ranks both
# preloaded and linked, the abort, clean-up and install checks).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
scripts/build.sh --enable-werror || exit 1
cd build
make check
rc=$?
# One plain closing line, whatever the runner's own summary looks like.
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null || true)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null || true)
skip=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null || true)
xpass=$(sed -n 's/^# XPASS: *//p' test-suite.log 2>/dev/null || true)
errs=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null || true)
[[ $rc -ne 0 ]] && cat test-suite.log
echo "${pass:-0} passed, $(( ${fail:-0} + ${errs:-0} + ${xpass:-0} )) failed, ${skip:-0} skipped"
exit $rc
