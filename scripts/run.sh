#!/usr/bin/env bash
# Command 1: Odoo 18 with sales_funnel_method and its demo data, on http://localhost:8069.
# DB (default sales_funnel) is created with demo data on the first run and updated on
# later runs. A development server, safe by default: it listens on 127.0.0.1 only
# (HTTP_INTERFACE=0.0.0.0 to serve your network), serves this one database with the
# database manager off (list_db = False), and has a master password of its own,
# generated on the first run into .odoo/master-password (never Odoo's default "admin").
source "$(dirname "$0")/lib.sh"

DB=${DB:-sales_funnel}
PORT=${PORT:-8069}

ensure_odoo
ensure_venv
ensure_postgres

master=$STATE/master-password
if [ ! -s "$master" ]; then
    mkdir -p "$STATE"
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$master")
    say "generated Odoo's master password (database manager) into $master: $(cat "$master")"
fi
ADMIN_PASSWD=$(cat "$master") write_conf "$PORT" False

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
interface=${HTTP_INTERFACE:-127.0.0.1}
case "$interface" in
    127.0.0.1 | localhost | ::1) where="http://localhost:$PORT (this machine only; HTTP_INTERFACE=0.0.0.0 serves your network)" ;;
    *) where="http://$interface:$PORT, reachable from your network: change the demo users' passwords" ;;
esac
say "Odoo is starting on $where, database '$DB'; log in as admin / admin. Ctrl-C stops it."
exec "$PY" "$ODOO_BIN" -c "$CONF" -d "$DB" --db-filter="^$DB\$"
