#!/usr/bin/env bash
# Command 2: the test suite, browser tours included, on a fresh database.
#   bash scripts/test.sh            everything, as CI: lint, the whole suite, then the
#                                   checks beyond pytest (SKIP_SERVER_CHECKS=1 leaves
#                                   those out)
#   bash scripts/test.sh ARGS...    pytest only, with ARGS (make test ARGS="-k grade");
#                                   a path among them replaces the whole addon
# Environment: TEST_DB (sales_funnel_test), TEST_PORT (8169), and lib.sh's.
CONF=${CONF:-${STATE:-$(cd "$(dirname "$0")/.." && pwd)/.odoo}/test.conf}
LOG_LEVEL=${LOG_LEVEL:-warn}
source "$(dirname "$0")/lib.sh"

DB=${TEST_DB:-sales_funnel_test}
PORT=${TEST_PORT:-8169}

ensure_odoo
ensure_venv
ensure_postgres
ensure_chromium
"$PY" -c "import websocket" 2>/dev/null \
    || die "websocket-client is missing from the virtualenv: Odoo would skip every browser tour. Fix: $PY -m pip install websocket-client"
write_conf "$PORT"

if [ $# = 0 ]; then
    bash "$ROOT/scripts/lint.sh" || die "fix the lint violations first (make lint)."
fi

say "creating a fresh test database '$DB' with sales_funnel_method (no demo data)"
drop_database "$DB" || die "could not drop the database '$DB'"
odoo -d "$DB" -i sales_funnel_method --without-demo=all --stop-after-init \
    || die "installing sales_funnel_method failed (see the log above)."

# the addon, unless the arguments name test files or folders themselves
targets=(sales_funnel_method)
for arg in "$@"; do
    case "$arg" in
        sales_funnel_method* | ./sales_funnel_method*) targets=() ;;
    esac
done

say "running the test suite"
cd "$ROOT"
# every step's output is also kept in $STATE/steps/: a failed run ends by naming
# what failed, with the last lines of its output, however much the later steps print
steps="$STATE/steps"
rm -rf "$steps" && mkdir -p "$steps"
status=0
failed=()
# step NAME LOG COMMAND...: runs COMMAND, its output shown and kept in LOG
step() {
    local name=$1 log="$steps/$2" rc=0
    shift 2
    # (unbuffered: Python's output in the order it was printed, stderr with stdout)
    PYTHONUNBUFFERED=1 "$@" 2>&1 | tee "$log" || rc=$?
    if [ "$rc" != 0 ]; then
        say "$name failed (exit $rc)"
        status=$rc
        failed+=("$name|$log")
    fi
}
step "the test suite" pytest.log \
    "$VENV/bin/pytest" --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -p no:cacheprovider -rfEs "$@" "${targets[@]}"

# a run of the whole suite (no pytest arguments) also runs the checks that need
# Odoo's own server processes, and the set-ups users have
if [ $# = 0 ] && [ -z "${SKIP_SERVER_CHECKS:-}" ]; then
    say "several workers, concurrent users (scripts/check_concurrency.sh)"
    step "the concurrency check" concurrency.log \
        env TEMPLATE_DB="$DB" CONF="$STATE/concurrency.conf" bash "$ROOT/scripts/check_concurrency.sh"
    say "upgrade from the previous release, uninstall and reinstall (scripts/check_lifecycle.sh)"
    step "the lifecycle check" lifecycle.log \
        env CONF="$STATE/lifecycle.conf" bash "$ROOT/scripts/check_lifecycle.sh"
    say "the addon on Odoo's git checkout layout (scripts/check_git_layout.sh)"
    step "the git layout check" git_layout.log bash "$ROOT/scripts/check_git_layout.sh"
    say "the set-up as a user who is not root (scripts/check_not_root.sh)"
    step "the check as a user who is not root" not_root.log bash "$ROOT/scripts/check_not_root.sh"
fi
for entry in "${failed[@]}"; do
    name=${entry%%|*} log=${entry#*|}
    say "FAILED: $name; its last lines ($log):"
    # of pytest's output, its short summary (the failed tests) and its last line
    lines=$(grep -E '^(FAILED|ERROR) ' "$log" | head -n 30 || true)
    printf '%s\n%s\n' "$lines" "$(tail -n 15 "$log")" | awk 'NF && !seen[$0]++' >&2
done
[ "$status" = 0 ] || say "FAILED: $(printf '%s, ' "${failed[@]%%|*}" | sed 's/, $//')"
exit $status
