#!/usr/bin/env bash
# The detection matrix on real servers. For each stack (Postfix+Dovecot, Exim+Dovecot), starts
# it as configured, runs the catalogue (baseline), then switches it by reload into each variant
# of variants.tsv and runs the catalogue again; check_report.py matrix then asserts that each
# variant turns the scenarios of its requirement from pass to fail and changes nothing else
# (see its --help). The two stacks run side by side. Prints the matrix and writes it to
# reports/peer-matrix/matrix.md. Stops the stacks at the end. Exit 0 only if every cell is the
# expected one.
#
# Usage: sudo scripts/peer/misconfig-test.sh [--stack postfix|exim|both] [VARIANT ...]
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$PEER_REPO"
BASE=${PEER_REPORT_DIR:-reports/peer-matrix}

stacks=(postfix exim)
if [ "${1:-}" = --stack ]; then
    case "${2:-}" in
        postfix|exim) stacks=("$2") ;;
        both) ;;
        *) die "--stack postfix|exim|both" ;;
    esac
    shift 2
fi
variants=("$@")
[ ${#variants[@]} -gt 0 ] || mapfile -t variants < <(grep -v '^#' "$PEER_DIR/variants.tsv" | cut -f1)

# One build of the harness for every run.
if [ -z "${PEER_MSSCONF:-}" ]; then
    cargo build -q 2>&1 | tail -5 >&2
    export PEER_MSSCONF=$PEER_REPO/target/debug/mssconf
fi

stack_dir() { [ "$1" = postfix ] && echo "$PEER_DIR" || echo "$PEER_DIR/exim"; }
stack_profile() { [ "$1" = postfix ] && echo "$PEER_PROFILE" || echo "${PEER2_PROFILE:-$PEER_REPO/targets/local-peer-exim.yaml}"; }

# The catalogue against the stack's current profile, into $BASE/<stack>/<name>.
run_one() { # $1 stack, $2 name
    local out="$BASE/$1/$2"
    rm -rf "$out"
    mssconf_run --target "$(stack_profile "$1")" --report-dir "$out" >"$out.log" 2>&1 || true
    [ -f "$out/report.json" ] || log "$1/$2: no report (see $out.log)"
}

# Whether the profile carries the material a variant needs to be observable at all.
variant_unobservable() { # $1 stack, $2 variant -> prints the reason, or nothing
    if [ "$2" = accept-revoked-token ] && ! grep -q '^  revoked_token:' "$(stack_profile "$1")"; then
        echo "the harness of this checkout has no negative.revoked_token: no scenario presents a revoked token"
    fi
}

# Started one after the other: they share the PKI and the package installs.
stack_start() { # $1 stack
    local t0
    t0=$(now_ms)
    "$(stack_dir "$1")/start.sh" 2>&1 | grep -E 'total|error' >&2 || true
    stage_done "$1 start" "$t0"
}

stack_matrix() { # $1 stack
    local s=$1 dir t0 v why
    dir=$(stack_dir "$s")
    mkdir -p "$BASE/$s"
    t0=$(now_ms); run_one "$s" none; stage_done "$s baseline" "$t0"
    for v in "${variants[@]}"; do
        t0=$(now_ms)
        why=$(variant_unobservable "$s" "$v")
        if [ -n "$why" ]; then
            rm -rf "$BASE/$s/$v"; mkdir -p "$BASE/$s/$v"; echo "$why" > "$BASE/$s/$v/skipped"
            continue
        fi
        "$dir/misconfig.sh" "$v" >"$BASE/$s/$v.switch.log" 2>&1 || { log "$s: switch to $v failed (see $BASE/$s/$v.switch.log)"; continue; }
        run_one "$s" "$v"
        stage_done "$s $v" "$t0"
    done
    "$dir/stop.sh" >/dev/null 2>&1 || true
}

cleanup() { local s; for s in "${stacks[@]}"; do "$(stack_dir "$s")/stop.sh" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
rm -rf "$BASE"
mkdir -p "$BASE"
t_all=$(now_ms)
for s in "${stacks[@]}"; do stack_start "$s"; done
pids=()
for s in "${stacks[@]}"; do
    stack_matrix "$s" 2>"$BASE/$s.timings" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
cat "$BASE"/*.timings >&2
stage_done "all variants" "$t_all"
args=(matrix --variants "$PEER_DIR/variants.tsv" --catalogue "$(catalogue_root)" --markdown "$BASE/matrix.md")
for s in "${stacks[@]}"; do args+=(--stack "$s=$BASE/$s"); done
"$PEER_PYTHON" "$PEER_DIR/check_report.py" "${args[@]}"
