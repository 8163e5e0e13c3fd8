#!/usr/bin/env bash
# Several workers, concurrent users (issue 7): Odoo with two HTTP workers and a
# cron worker, eight reps claiming, abandoning and moving customers of a pool of
# two hundred over JSON-RPC while the allocation cron runs; then the checks of
# scripts/concurrency_check.py (no double assignment, nobody over quota, no
# customer lost, refusals are business errors). Exits non-zero on a failure.
#
#   bash scripts/check_concurrency.sh              # about 2 minutes
#   DURATION=120 bash scripts/check_concurrency.sh # a longer run
#
# The database is built fresh (crm and the addon, no demo data), or copied
# from TEMPLATE_DB when given (scripts/test.sh passes its test database).
CONF=${CONF:-$(cd "$(dirname "$0")/.." && pwd)/.odoo/concurrency.conf}
LOG_LEVEL=${LOG_LEVEL:-warn}
source "$(dirname "$0")/lib.sh"

DB=${CONCURRENCY_DB:-sales_funnel_concurrency}
PORT=${CONCURRENCY_PORT:-8269}
DURATION=${DURATION:-40}

ensure_odoo
ensure_venv
ensure_postgres
write_conf "$PORT"

drop_database "$DB" || die "could not drop the database '$DB'"
if [ -n "${TEMPLATE_DB:-}" ] && module_installed "$TEMPLATE_DB"; then
    say "copying '$TEMPLATE_DB' into '$DB'"
    createdb -T "$TEMPLATE_DB" "$DB" || die "could not copy $TEMPLATE_DB (is it still in use?)"
else
    say "creating '$DB' with sales_funnel_method (no demo data)"
    odoo -d "$DB" -i sales_funnel_method --without-demo=all --stop-after-init \
        || die "installing sales_funnel_method failed (see the log above)."
fi

status=0
"$PY" "$ROOT/scripts/concurrency_check.py" --conf "$CONF" --db "$DB" --port "$PORT" \
    --duration "$DURATION" || status=$?
if [ "$status" = 0 ] && [ -z "${KEEP_DB:-}" ]; then
    drop_database "$DB"
fi
exit $status
