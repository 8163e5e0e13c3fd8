#!/usr/bin/env bash
# The addon's life cycle, end to end, on a throw-away database (issue 6):
#   1. install the previous release (newest git tag 18.0.*, else the newest release
#      of docs/releases.txt, or BASE_REF) with its demo data
#   2. a manager's edits, then a snapshot of every lead, partner, stage and history row
#   3. upgrade to the current code (-u): version, data and history kept, no ERROR
#   4. uninstall: every lead, partner and stage left and usable in plain CRM, no ERROR
#   5. reinstall (no demo): the same stages are the layers again, no ERROR
# Exits non-zero at the first failed step. Environment: BASE_REF, LIFECYCLE_DB,
# KEEP_DB=1 (keep the database afterwards), LIFECYCLE_PORT (8269, in its
# odoo.conf; no server is started), CONF, ODOO_PATH.
# In a clone without tags nor those commits the base is HEAD; in a source archive
# without .git the working tree is installed and step 3 is skipped, with a notice.
CONF=${CONF:-$(cd "$(dirname "$0")/.." && pwd)/.odoo/lifecycle.conf}
LOG_LEVEL=${LOG_LEVEL:-warn}
source "$(dirname "$0")/lib.sh"

DB=${LIFECYCLE_DB:-sales_funnel_lifecycle}
MODULE=sales_funnel_method

ensure_odoo
ensure_venv
ensure_postgres
write_conf "${LIFECYCLE_PORT:-8269}"

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

current_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ROOT/$MODULE/__manifest__.py")
# the previous release: BASE_REF, else the newest 18.0.* tag, else the newest
# release of docs/releases.txt in this clone, else HEAD; without git (a source
# archive) there is no previous code: the working tree is installed and the
# upgrade step is skipped
upgrade=1
toplevel=$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null) || toplevel=
if [ -z "$toplevel" ] || [ "$(cd "$toplevel" && pwd -P)" != "$(cd "$ROOT" && pwd -P)" ]; then
    [ -z "${BASE_REF:-}" ] || die "BASE_REF=$BASE_REF needs a git checkout, and $ROOT is none."
    upgrade=0
    base_ref="the working tree"
    base_dir=$ROOT
    base_version=$current_version
    say "NOTICE: $ROOT is not a git checkout (a source archive?): no previous release to upgrade from;
  installing the working tree and skipping the upgrade step (uninstall and reinstall are checked)"
else
    if [ -n "${BASE_REF:-}" ]; then
        base_ref=$BASE_REF
        how="BASE_REF"
    else
        base_ref=$(git -C "$ROOT" tag --list '18.0.*' --sort=-version:refname | head -n 1)
        how="the newest 18.0.* tag"
        if [ -z "$base_ref" ]; then
            # a clone without tags (git clone --no-tags, CI): the newest release
            # of docs/releases.txt whose commit this clone has
            # (a missing file, no line, or a commit a shallow clone lacks is no
            # release: none of them may end the script under set -e)
            release=$( { grep -E '^18\.0\.[0-9.]+ [0-9a-f]{40}$' "$ROOT/docs/releases.txt" 2>/dev/null || true; } \
                | while read -r version commit; do
                    if git -C "$ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
                        echo "$version $commit"
                    fi
                done | sort -V | tail -n 1)
            if [ -n "$release" ]; then
                base_ref=${release#* }
                how="release ${release%% *} of docs/releases.txt: this clone has no 18.0.* tag"
            else
                base_ref=HEAD
                how="HEAD: this clone has no 18.0.* release tag nor a commit of docs/releases.txt (git fetch --tags brings them; BASE_REF chooses)"
            fi
        fi
    fi
    base_commit=$(git -C "$ROOT" rev-parse --short "$base_ref^{commit}" 2>/dev/null) \
        || die "BASE_REF=$base_ref is not a commit of this repository."
    base_dir=$work/base
    mkdir "$base_dir"
    git -C "$ROOT" archive "$base_ref" "$MODULE" | tar -x -C "$base_dir"
    base_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$base_dir/$MODULE/__manifest__.py")
    say "base: $base_ref ($base_commit, $base_version), chosen as $how; current code: $current_version"
fi

drop_database "$DB" || die "could not drop the database $DB"
step "install $base_ref with demo data" "$work/install_base.log" \
    odoo -d "$DB" --addons-path "$base_dir,$odoo_addons" -i "$MODULE" --stop-after-init
check snapshot "$base_dir"

if [ "$upgrade" = 1 ]; then
    step "upgrade to the current code" "$work/upgrade.log" \
        odoo -d "$DB" -u "$MODULE" --stop-after-init
    check upgraded "$ROOT"
else
    say "NOTICE: upgrade step skipped (no git: no previous release)"
fi

check uninstall "$ROOT"
check uninstalled "$ROOT"

# Odoo 18 decides demo data per database, not per command: on a database made with
# demo data, -i loads the addon's demo again whatever --without-demo says. Clear
# the modules' demo flags, as on a production database, to reinstall without it.
psql -X -q -d "$DB" -c "UPDATE ir_module_module SET demo = false"
step "reinstall without demo data" "$work/reinstall.log" \
    odoo -d "$DB" -i "$MODULE" --without-demo=all --stop-after-init
check reinstalled "$ROOT"

if [ "$upgrade" = 1 ]; then
    say "life cycle OK in $((SECONDS - started)) s: $base_ref ($base_version) -> $current_version upgraded, uninstalled, reinstalled"
else
    say "life cycle OK in $((SECONDS - started)) s: $current_version installed, uninstalled, reinstalled (upgrade skipped: no git)"
fi
