#!/bin/bash
# compare-check.sh - benchmarks/compare works on the tree just built: in its
# smoke mode (put latency at one size, one repeat, portrma and osc-sm only,
# no install, no build) it ends well and writes a table, a CSV file (and a
# plot where gnuplot is installed) that hold a portrma number. It measures
# nothing worth reading: the benchmarks never run as tests. Skipped (77)
# without mpirun.
set -u
: "${PRMA_BUILDDIR:?run through make check}" "${PRMA_SRCDIR:?run through make check}"
if ! command -v mpirun >/dev/null; then
    echo "compare-check: SKIP: mpirun not found"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "compare-check: FAIL: $*"; fail=1; }

res=$dir/results
timeout 300 "$PRMA_SRCDIR/benchmarks/compare" --smoke --build "$PRMA_BUILDDIR" --out "$res" \
    >"$dir/out" 2>&1
rc=$?
[[ $rc -eq 0 ]] || bad "benchmarks/compare --smoke exited with $rc"
[[ -s $res/table.txt ]] || bad "no table.txt"
[[ -s $res/results.csv ]] || bad "no results.csv"
grep -q "table: *$res/table.txt" "$dir/out" || bad "the runner did not say where the table is"

# A row of put latency with a number in the portrma column (the 4th field).
awk '$1 == "put_latency" && $3 == 8 && $4 ~ /^[0-9]+(\.[0-9]+)?$/ && $4 > 0 { found = 1 }
     END { exit !found }' "$res/table.txt" 2>/dev/null || bad "the table has no portrma number for put_latency"
[[ $(head -1 "$res/results.csv" 2>/dev/null) == benchmark,window,sync,size,config,median,unit,runs ]] ||
    bad "results.csv does not start with its column names"
awk -F, '$1 == "put_latency" && $4 == 8 && $5 == "portrma" && $6 > 0 && $7 == "us" && $8 == 1 { found = 1 }
     END { exit !found }' "$res/results.csv" 2>/dev/null || bad "results.csv has no portrma row for put_latency"
if command -v gnuplot >/dev/null; then
    compgen -G "$res/plots/put_latency_*.png" >/dev/null || bad "gnuplot is installed but no plot was drawn"
fi

if [[ $fail -ne 0 ]]; then
    echo "---- benchmarks/compare --smoke said:"
    cat "$dir/out"
    [[ -f $res/log.txt ]] && { echo "---- its log.txt:"; cat "$res/log.txt"; }
else
    echo "compare-check: ok"
fi
exit $fail
