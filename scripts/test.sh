#!/usr/bin/env bash
# Command 2: the whole test suite, browser tours included, on a fresh database.
# Extra arguments go to pytest (e.g. `make test ARGS="-k grade"`).
CONF=${CONF:-$(cd "$(dirname "$0")/.." && pwd)/.odoo/test.conf}
LOG_LEVEL=${LOG_LEVEL:-warn}
source "$(dirname "$0")/lib.sh"

DB=${TEST_DB:-sales_funnel_test}

ensure_odoo
ensure_venv
ensure_postgres
ensure_chromium
"$PY" -c "import websocket" 2>/dev/null \
    || die "websocket-client is missing from the virtualenv: Odoo would skip every browser tour. Fix: $PY -m pip install websocket-client"
write_conf "${TEST_PORT:-8169}"

bash "$ROOT/scripts/lint.sh" || die "fix the lint violations first (make lint)."

say "creating a fresh test database '$DB' with sales_funnel_method (no demo data)"
dropdb --if-exists "$DB"
odoo -d "$DB" -i sales_funnel_method --without-demo=all --stop-after-init \
    || die "installing sales_funnel_method failed (see the log above)."

say "running the test suite"
cd "$ROOT"
status=0
"$VENV/bin/pytest" --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -p no:cacheprovider -rfEs "$@" sales_funnel_method || status=$?

# a run of the whole suite (no pytest arguments) also runs the checks that need
# Odoo's own server processes (SKIP_SERVER_CHECKS=1 leaves them out)
if [ $# = 0 ] && [ -z "${SKIP_SERVER_CHECKS:-}" ]; then
    say "several workers, concurrent users (scripts/check_concurrency.sh)"
    TEMPLATE_DB="$DB" CONF="$STATE/concurrency.conf" bash "$ROOT/scripts/check_concurrency.sh" \
        || { say "the concurrency check failed"; status=1; }
    say "upgrade from the previous release, uninstall and reinstall (scripts/check_lifecycle.sh)"
    CONF="$STATE/lifecycle.conf" bash "$ROOT/scripts/check_lifecycle.sh" \
        || { say "the lifecycle check failed"; status=1; }
fi
exit $status
