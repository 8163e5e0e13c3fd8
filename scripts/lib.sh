# shellcheck shell=bash
# Shared set-up for the project's commands (sourced by scripts/run.sh and scripts/test.sh).
# Every step is idempotent: it checks first and only does what is missing.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_PATH=${ODOO_PATH:-/opt/odoo}
VENV=${VENV:-$ROOT/.venv}
STATE=$ROOT/.odoo
CONF=${CONF:-$STATE/odoo.conf}
PY=$VENV/bin/python
# pytest-odoo imports odoo as a package
export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"

say() { printf '\033[1m[sales_funnel_method]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[sales_funnel_method] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Odoo's own addons live in odoo/addons in a source checkout; some trees also
# carry a top-level addons/ folder (a subset): use both when present.
odoo_core_addons_path() {
    local path="$ODOO_PATH/odoo/addons"
    [ -d "$ODOO_PATH/addons" ] && path="$path,$ODOO_PATH/addons"
    printf '%s' "$path"
}

odoo_addons_path() { printf '%s,%s' "$ROOT" "$(odoo_core_addons_path)"; }

ensure_odoo() {
    if [ ! -f "$ODOO_PATH/odoo-bin" ] || [ ! -d "$ODOO_PATH/odoo/addons/crm" ]; then
        die "no Odoo 18.0 source at ODOO_PATH=$ODOO_PATH (odoo-bin and odoo/addons/crm are missing).
  Fix: on a machine with network access run
      git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git $ODOO_PATH
  or point ODOO_PATH at an existing Odoo 18.0 checkout."
    fi
    grep -q "18, 0" "$ODOO_PATH/odoo/release.py" 2>/dev/null \
        || die "the Odoo at $ODOO_PATH is not version 18.0 (see odoo/release.py)."
}

pick_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3.12 python3.10 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local stamp=$VENV/.requirements.sha
    local want
    want=$(sha1sum "$ROOT/requirements.txt" | cut -d' ' -f1)
    if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if [ ! -x "$PY" ]; then
        local python
        python=$(pick_python) || die "no Python 3.10-3.12 found. Fix: install python3.11 (apt-get install python3 python3-venv)."
        say "creating the virtualenv in $VENV with $python"
        "$python" -m venv "$VENV" || die "could not create a virtualenv. Fix: apt-get install python3-venv"
    fi
    say "installing Python requirements (requirements.txt)"
    "$PY" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    "$PY" -m pip install --quiet -r "$ROOT/requirements.txt" \
        || die "pip could not install requirements.txt (see the messages above)."
    echo "$want" > "$stamp"
}

pg_answers() { psql -X -d postgres -Atc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
    pg_answers && return 0
    command -v pg_lsclusters >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 \
        || die "no PostgreSQL server binaries. Fix: apt-get install postgresql (version 12 or later)."
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local cluster
        cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
        [ -n "$cluster" ] || die "PostgreSQL is installed but has no cluster. Fix: pg_createcluster --start 15 main"
        say "starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start 2>/dev/null || true
    fi
    local i
    for i in $(seq 1 30); do
        pg_answers && return 0
        # the server answers but our OS user has no role yet: create it as a superuser
        if [ "$(id -u)" = 0 ] && su postgres -c "psql -X -d postgres -Atc 'select 1'" >/dev/null 2>&1; then
            say "creating PostgreSQL role '$(id -un)'"
            su postgres -c "createuser -s $(id -un)" 2>/dev/null || true
            pg_answers && return 0
        fi
        sleep 1
    done
    die "PostgreSQL does not answer on the local socket as user '$(id -un)'.
  Fix: start the server (pg_ctlcluster 15 main start) and create your role
  (sudo -u postgres createuser -s $(id -un))."
}

find_chromium() {
    local candidate
    for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
        command -v "$candidate" >/dev/null 2>&1 && { command -v "$candidate"; return 0; }
    done
    return 1
}

ensure_chromium() {
    find_chromium >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Chromium for the browser tests (apt-get install chromium)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true
    fi
    find_chromium >/dev/null \
        || die "no Chromium for the browser tests. Fix: apt-get install chromium (Debian) or chromium-browser (Ubuntu)."
    ensure_cjk_font
}

# The zh_CN tour and the app page's screenshots show Chinese: without a CJK font
# Chromium draws empty boxes (the tests still pass, the screenshots look broken).
ensure_cjk_font() {
    fc-list :lang=zh 2>/dev/null | grep -q . && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing a Chinese font for the browser tests (apt-get install fonts-wqy-microhei)"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei) >/dev/null 2>&1 || true
    fi
    fc-list :lang=zh 2>/dev/null | grep -q . \
        || say "warning: no Chinese font (apt-get install fonts-wqy-microhei): screenshots will show boxes for Chinese text"
}

write_conf() {
    local http_port=${1:-8069}
    mkdir -p "$STATE/data"
    cat > "$CONF" <<CONF
[options]
addons_path = $(odoo_addons_path)
data_dir = $STATE/data
http_port = $http_port
db_host = False
db_port = False
db_user = False
db_password = False
list_db = True
log_level = ${LOG_LEVEL:-info}
CONF
}

# drop_database DB: the database and its filestore (--force: a server left behind
# by an interrupted run may still hold connections)
drop_database() {
    dropdb --if-exists --force "$1" 2>/dev/null || return 1
    rm -rf "$STATE/data/filestore/$1"
}

db_exists() { psql -X -d postgres -Atc "select 1 from pg_database where datname = '$1'" | grep -q 1; }

module_installed() {
    db_exists "$1" && psql -X -d "$1" -Atc \
        "select 1 from ir_module_module where name = 'sales_funnel_method' and state = 'installed'" 2>/dev/null | grep -q 1
}

odoo() { "$PY" "$ODOO_PATH/odoo-bin" -c "$CONF" "$@"; }
