#!/usr/bin/env bash
# The addon's life cycle, end to end, on a throw-away database (issue 6):
#   1. install the previous release (newest git tag 18.0.*, or BASE_REF) with its demo data
#   2. a manager's edits, then a snapshot of every lead, partner, stage and history row
#   3. upgrade to the current code (-u): version, data and history kept, no ERROR
#   4. uninstall: every lead, partner and stage left and usable in plain CRM, no ERROR
#   5. reinstall (no demo): the same stages are the layers again, no ERROR
# Exits non-zero at the first failed step. Environment: BASE_REF, LIFECYCLE_DB,
# KEEP_DB=1 (keep the database afterwards), CONF, ODOO_PATH.
CONF=${CONF:-$(cd "$(dirname "$0")/.." && pwd)/.odoo/lifecycle.conf}
LOG_LEVEL=${LOG_LEVEL:-warn}
source "$(dirname "$0")/lib.sh"

DB=${LIFECYCLE_DB:-sales_funnel_lifecycle}
MODULE=sales_funnel_method

ensure_odoo
ensure_venv
ensure_postgres
write_conf 8269

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/sfm_lifecycle.XXXXXX")
cleanup() {
    rm -rf "$work"
    [ "${KEEP_DB:-0}" = 1 ] && return
    drop_database "$DB" || true
}
trap cleanup EXIT

odoo_addons=$(odoo_core_addons_path)

# step NAME LOG COMMAND...: run, keep the log, fail on a non-zero exit or any
# ERROR/CRITICAL line
step() {
    local name=$1 log=$2
    shift 2
    say "$name"
    if ! "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "$name failed (log: $log above)."
    fi
    if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" >&2; then
        die "$name logged the errors above."
    fi
    grep -E '^  |checks passed' "$log" || true
}

check() {
    local phase=$1 addons=$2
    step "check: $phase" "$work/check_$phase.log" \
        "$PY" "$ROOT/scripts/lifecycle_check.py" -c "$CONF" -d "$DB" \
        --addons-path "$addons,$odoo_addons" --phase "$phase" --state "$work/snapshot.json"
}

# the previous release: the newest 18.0.* tag
base_ref=${BASE_REF:-$(git -C "$ROOT" tag --list '18.0.*' --sort=-version:refname | head -n 1)}
if [ -z "$base_ref" ]; then
    base_ref=HEAD
    say "NOTICE: no 18.0.* release tag yet: the previous release is HEAD (set BASE_REF to choose)"
fi
base_commit=$(git -C "$ROOT" rev-parse --short "$base_ref^{commit}") \
    || die "BASE_REF=$base_ref is not a commit of this repository."
mkdir "$work/base"
git -C "$ROOT" archive "$base_ref" "$MODULE" | tar -x -C "$work/base"
base_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$work/base/$MODULE/__manifest__.py")
current_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ROOT/$MODULE/__manifest__.py")
say "previous release: $base_ref ($base_commit, $base_version); current code: $current_version"

drop_database "$DB" || die "could not drop the database $DB"
step "install $base_ref with demo data" "$work/install_base.log" \
    odoo -d "$DB" --addons-path "$work/base,$odoo_addons" -i "$MODULE" --stop-after-init
check snapshot "$work/base"

step "upgrade to the current code" "$work/upgrade.log" \
    odoo -d "$DB" -u "$MODULE" --stop-after-init
check upgraded "$ROOT"

check uninstall "$ROOT"
check uninstalled "$ROOT"

# Odoo 18 decides demo data per database, not per command: on a database made with
# demo data, -i loads the addon's demo again whatever --without-demo says. Clear
# the modules' demo flags, as on a production database, to reinstall without it.
psql -X -q -d "$DB" -c "UPDATE ir_module_module SET demo = false"
step "reinstall without demo data" "$work/reinstall.log" \
    odoo -d "$DB" -i "$MODULE" --without-demo=all --stop-after-init
check reinstalled "$ROOT"

say "life cycle OK in $((SECONDS - started)) s: $base_ref ($base_version) -> $current_version upgraded, uninstalled, reinstalled"
