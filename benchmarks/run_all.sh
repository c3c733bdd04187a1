#!/usr/bin/env bash
# Every benchmark docs/benchmarks.md quotes, run one after another at one commit, so that
# the file can be regenerated from one run:
#
#     bash benchmarks/run_all.sh OUT [REALPAGES]
#
# Each script's output goes to OUT/NAME.md, headed by its command; OUT/summary.md lists
# the commit, the scripts, their exit status and wall time.  Run it on an idle machine:
# the scripts compare against baselines measured in the same run, but two of them running
# at once (or the test suite) would share the two cores.  The million-text archive is not
# in this list (hours and about 35 GB of disk):
#     python benchmarks/million_archive.py --workdir DIR
set -uo pipefail

out=${1:?usage: bash benchmarks/run_all.sh OUT [REALPAGES]}
realpages=${2:-../shared/realpages}
cd "$(dirname "$0")/.."
mkdir -p "$out/work"
out=$(cd "$out" && pwd)
python=${PYTHON:-python}

commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no | wc -l)
{
    echo "# Benchmark run at $commit"
    echo
    [ "$dirty" -eq 0 ] || echo "**The working tree differed from $commit in $dirty files: the figures are not that commit's.**"
    echo
    echo "| output | command | exit | wall s |"
    echo "|---|---|---|---|"
} > "$out/summary.md"

run() {
    local name=$1
    shift
    local started=$SECONDS
    echo "== $name: $*" >&2
    {
        echo "\`\`\`bash"
        echo "$*"
        echo "\`\`\`"
        echo
    } > "$out/$name.md"
    "$@" >> "$out/$name.md" 2> "$out/$name.log"
    local status=$?
    echo "| $name.md | \`$*\` | $status | $((SECONDS - started)) |" >> "$out/summary.md"
}

run cleaning_scorecard "$python" benchmarks/cleaning_scorecard.py --realpages "$realpages" --rounds 7
run extraction_quality "$python" benchmarks/extraction_quality.py
run crawl_throughput "$python" benchmarks/crawl_throughput.py --rounds 5 --weights light,real
run crawl_throughput_clean_in_crawl "$python" benchmarks/crawl_throughput.py --rounds 5 --weights light,real \
    --setting FANWEN_CLEAN_IN_WRITER=0
run write_path_profile "$python" benchmarks/write_path_profile.py
run write_path_gzip_levels "$python" benchmarks/write_path_profile.py --gzip-levels
run incremental_recrawl "$python" benchmarks/incremental_recrawl.py
run archive_footprint "$python" benchmarks/archive_footprint.py
run profile_suggest "$python" benchmarks/profile_suggest.py
run dedup_refresh "$python" benchmarks/dedup_refresh.py --workdir "$out/work/dedup"
run search_export "$python" benchmarks/search_export.py --workdir "$out/work/search"
run distributed_speedup "$python" benchmarks/distributed_speedup.py --rounds 2

echo >> "$out/summary.md"
echo "Finished $(date -u +%Y-%m-%dT%H:%MZ)." >> "$out/summary.md"
cat "$out/summary.md"
