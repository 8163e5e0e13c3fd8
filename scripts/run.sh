#!/usr/bin/env bash
# Command 1: Odoo 18 with sales_funnel_method and its demo data, on http://localhost:8069.
# DB (default sales_funnel) is created with demo data on the first run and updated on later runs.
source "$(dirname "$0")/lib.sh"

DB=${DB:-sales_funnel}
PORT=${PORT:-8069}

ensure_odoo
ensure_venv
ensure_postgres
write_conf "$PORT"

if module_installed "$DB"; then
    say "updating sales_funnel_method in database '$DB'"
    odoo -d "$DB" -u sales_funnel_method --stop-after-init
else
    say "creating database '$DB' with crm, sales_funnel_method and demo data (about a minute)"
    # Odoo 18 loads demo data into a new database unless told otherwise.
    odoo -d "$DB" -i sales_funnel_method --stop-after-init
    # Odoo only warns when demo data fails to load: make it an error here
    psql -X -d "$DB" -Atc "select demo from ir_module_module where name = 'sales_funnel_method'" | grep -q t \
        || die "the demo data of sales_funnel_method failed to load into '$DB' (see the log above); drop it with: dropdb $DB"
fi
say "Odoo is starting on http://localhost:$PORT (database '$DB'); log in as admin / admin. Ctrl-C stops it."
exec "$PY" "$ODOO_PATH/odoo-bin" -c "$CONF" -d "$DB" --db-filter="^$DB\$"
