#!/usr/bin/env bash
# Re-runs every cargo-fuzz target of mssconf for a given time, then minimises the corpora.
#
#   scripts/fuzz.sh [seconds-per-target]   (default 600)
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz if it is
# missing. Targets run one after the other at low priority. A crash stops the script with the
# input under fuzz/artifacts/<target>/: fix the parser, copy the input to
# fuzz/regressions/<target>/ (replayed by `cargo test --test integration fuzz_corpus`), re-run.
# Corpora grow under fuzz/corpus/<target>/; commit them after the final `cmin`.
set -euo pipefail

seconds="${1:-600}"
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;; esac

cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
targets=$(cargo +nightly fuzz list)

for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== $t: ${seconds}s" >&2
    nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
done

for t in $targets; do
    echo "== $t: minimising the corpus" >&2
    nice -n 10 cargo +nightly fuzz cmin "$t" "corpus/$t"
done
du -sh corpus
