# shellcheck shell=bash
# Shared set-up for the project's commands (sourced by scripts/run.sh, scripts/test.sh
# and the checks). Every step is idempotent: it checks first and only does what is
# missing. A step that needs root runs as root, and otherwise prints the exact
# command to run and goes on once it has been run (root_step below).
#
# Environment (README, "Set-up on your machine"):
#   ODOO_PATH      Odoo 18.0: a git checkout, the packaged source tree, or unset to
#                  use /opt/odoo or the odoo package Python imports
#   PGHOST PGPORT PGUSER PGPASSWORD (or DB_HOST DB_PORT DB_USER DB_PASSWORD)
#                  the PostgreSQL server, written into the generated odoo.conf
#   CHROMIUM_BIN   the browser of the tours and screenshots
#   PYTHON         the Python that creates .venv (3.10-3.12)
#   HTTP_INTERFACE the address Odoo listens on (default 127.0.0.1)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
STATE=${STATE:-$ROOT/.odoo}
CONF=${CONF:-$STATE/odoo.conf}
PY=$VENV/bin/python
REQUIREMENTS=$ROOT/requirements.txt
LOCK=$ROOT/requirements-lock.txt
PG_MIN_VERSION=13 # dropdb --force and DROP DATABASE ... WITH (FORCE)

say() { printf '\033[1m[sales_funnel_method]\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[31m[sales_funnel_method] error:\033[0m %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

checksum() {
    if command -v sha1sum >/dev/null 2>&1; then
        cat "$@" | sha1sum | cut -d' ' -f1
    else
        cat "$@" | shasum | cut -d' ' -f1
    fi
}

# ------------------------------------------------------------
# STEPS THAT NEED ROOT
# ------------------------------------------------------------

# root_step WHY CHECK SHOWN [AS_ROOT]: a step only root can do (install a package,
# start the server, create a role). CHECK is a command that succeeds once the step
# is done. As root, AS_ROOT runs (a bash command; none: nothing can be done
# automatically). Otherwise SHOWN, the exact command, is printed; at a terminal the
# step waits for Enter and checks again, elsewhere (CI, a pipe) it stops, and the
# next run goes on from there.
root_step() {
    local why=$1 check=$2 shown=$3 as_root=${4:-}
    if is_root && [ -n "$as_root" ]; then
        say "$why: $as_root"
        bash -c "$as_root" || true
        eval "$check" && return 0
        die "$why failed (see the messages above). Run it by hand: $as_root"
    fi
    say "$why: this needs root. Run, in another terminal:"
    printf '\n    %s\n\n' "$shown" >&2
    if [ -t 0 ] && [ -t 2 ] && [ -z "${CI:-}" ]; then
        while ! eval "$check"; do
            read -r -p "[sales_funnel_method] press Enter once it has run (Ctrl-C to stop) " _ \
                || die "$why: stopped."
        done
        say "$why: done, going on"
        return 0
    fi
    die "$why: run the command above, then this command again (it goes on from there)."
}

# the command that installs Debian/Ubuntu packages, as root runs it
apt_install() {
    printf 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s' "$*"
}

# pkg_step WHY CHECK PACKAGES OTHER: install Debian packages with apt-get (root), or
# print the command; on a system without apt-get, OTHER says what to install.
pkg_step() {
    local why=$1 check=$2 packages=$3 other=$4
    if command -v apt-get >/dev/null 2>&1; then
        root_step "$why" "$check" "sudo apt-get install -y $packages" "$(apt_install "$packages")"
    else
        root_step "$why" "$check" "$other"
    fi
}

# ------------------------------------------------------------
# ODOO
# ------------------------------------------------------------

# odoo_tree_addons DIR: Odoo's own addons folders in the source tree DIR, printed as
# an addons path, or nothing when DIR is no Odoo tree:
#   Odoo's git checkout: odoo/addons holds base (and test modules), addons/ the rest
#   the packaged source tree (nightly, sdist, pip's site-packages): all in odoo/addons
odoo_tree_addons() {
    local dir=$1 path
    [ -f "$dir/odoo/__init__.py" ] && [ -f "$dir/odoo/addons/base/__manifest__.py" ] || return 0
    path=$dir/odoo/addons
    [ -f "$dir/addons/crm/__manifest__.py" ] && path=$path,$dir/addons
    if [ -f "$dir/odoo/addons/crm/__manifest__.py" ] || [ -f "$dir/addons/crm/__manifest__.py" ]; then
        printf '%s' "$path"
    fi
}

# the odoo package a Python imports, as the folder that holds it; nothing if none
odoo_imported_by() {
    # found, not imported: that Python need not have Odoo's dependencies
    "$1" -c 'import importlib.util, os
spec = importlib.util.find_spec("odoo")
print(os.path.dirname(os.path.abspath(list(spec.submodule_search_locations)[0])) if spec and spec.submodule_search_locations else "")' 2>/dev/null
}

# find_odoo: sets ODOO_PATH (the folder holding the odoo package, put on PYTHONPATH),
# ODOO_ADDONS (Odoo's addons folders), ODOO_BIN (the script that starts Odoo) and
# ODOO_LAYOUT (git, packaged or package), and exports them for the Python scripts.
ODOO_DEFAULT_PATH=${ODOO_DEFAULT_PATH:-/opt/odoo}
find_odoo() {
    [ -n "${ODOO_LAYOUT:-}" ] && return 0
    local candidate found=
    if [ -n "${ODOO_PATH:-}" ]; then
        ODOO_ADDONS=$(odoo_tree_addons "$ODOO_PATH")
        [ -n "$ODOO_ADDONS" ] || die "ODOO_PATH=$ODOO_PATH is no Odoo 18.0 source tree: neither Odoo's git
  checkout (odoo-bin, odoo/addons/base, addons/crm) nor the packaged tree (odoo/addons/base
  and odoo/addons/crm). Fix: point ODOO_PATH at one, or unset it to use the odoo package
  Python imports."
        found=$ODOO_PATH
    elif [ -n "$(odoo_tree_addons "$ODOO_DEFAULT_PATH")" ]; then
        found=$ODOO_DEFAULT_PATH
        ODOO_ADDONS=$(odoo_tree_addons "$found")
    else
        for candidate in ${PYTHON:-} python3 python3.11 python3.12 python3.10; do
            command -v "$candidate" >/dev/null 2>&1 || continue
            found=$(odoo_imported_by "$candidate") || true
            if [ -n "$found" ]; then
                ODOO_ADDONS=$(odoo_tree_addons "$found")
                [ -n "$ODOO_ADDONS" ] && break
                found=
            fi
        done
        [ -n "$found" ] || die "no Odoo 18.0 found: not at $ODOO_DEFAULT_PATH, ODOO_PATH is not set, and no
  Python imports an odoo package with crm.
  Fix: on a machine with network access run
      git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git ~/odoo
  then run the command again with ODOO_PATH=~/odoo (or pip install -e ~/odoo)."
    fi
    grep -q "18, 0" "$found/odoo/release.py" 2>/dev/null \
        || die "the Odoo at $found is not version 18.0 (see $found/odoo/release.py)."
    if [ -f "$found/odoo-bin" ]; then
        ODOO_PATH=$found
        ODOO_BIN=$found/odoo-bin
        if [ -d "$found/addons" ] && [ ! -d "$found/odoo/addons/crm" ]; then
            ODOO_LAYOUT=git
        else
            ODOO_LAYOUT=packaged
        fi
    else
        # an installed package (site-packages): put a folder holding only a link to
        # it on PYTHONPATH (not site-packages itself, whose other packages would
        # shadow the virtualenv's), and start Odoo as odoo-bin does
        ODOO_LAYOUT=package
        ODOO_PATH=$STATE/odoo-package
        mkdir -p "$ODOO_PATH"
        ln -sfn "$found/odoo" "$ODOO_PATH/odoo"
        ODOO_ADDONS=$ODOO_PATH/odoo/addons
        [ -f "$found/addons/crm/__manifest__.py" ] && ODOO_ADDONS=$ODOO_ADDONS,$found/addons
        ODOO_BIN=$STATE/odoo-bin
        printf '%s\n' "#!/usr/bin/env python3" "__import__('os').environ['TZ'] = 'UTC'" \
            "import odoo" "" 'if __name__ == "__main__":' "    odoo.cli.main()" >"$ODOO_BIN"
    fi
    # pytest-odoo and the scripts import odoo as a package
    export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
    export ODOO_PATH ODOO_ADDONS ODOO_BIN ODOO_LAYOUT
}

ensure_odoo() {
    find_odoo
    say "Odoo 18.0: $ODOO_PATH ($ODOO_LAYOUT layout)"
}

odoo_core_addons_path() {
    find_odoo
    printf '%s' "$ODOO_ADDONS"
}

odoo_addons_path() { printf '%s,%s' "$ROOT" "$(odoo_core_addons_path)"; }

odoo() { "$PY" "$ODOO_BIN" -c "$CONF" "$@"; }

# ------------------------------------------------------------
# PYTHON
# ------------------------------------------------------------

pick_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3.12 python3.10 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# The virtualenv holds requirements.txt at the versions of requirements-lock.txt
# (tested together; `make lock` refreshes them). The stamp records both files and
# the Python: when one changes, the next command installs again.
venv_stamp() { { cat "$REQUIREMENTS" "$LOCK"; "$PY" -VV 2>/dev/null; } | checksum; }

ensure_venv() {
    local stamp=$VENV/.requirements.sha python
    if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(venv_stamp)" ]; then
        return 0
    fi
    if [ ! -x "$PY" ]; then
        if ! python=$(pick_python); then
            pkg_step "a Python 3.10-3.12 with venv" "pick_python >/dev/null" "python3 python3-venv" \
                "install Python 3.11 with its venv module, or set PYTHON=/path/to/python3.11"
            python=$(pick_python)
        fi
        say "creating the virtualenv in $VENV with $python"
        "$python" -m venv "$VENV" || die "could not create a virtualenv with $python (is its venv module installed?)"
    fi
    say "installing the Python requirements (requirements.txt at the versions of requirements-lock.txt)"
    "$PY" -m pip install --quiet --upgrade -c "$LOCK" pip >/dev/null 2>&1 || true
    "$PY" -m pip install --quiet -r "$REQUIREMENTS" -c "$LOCK" \
        || die "pip could not install requirements.txt with requirements-lock.txt (see the messages above)."
    venv_stamp >"$stamp"
}

# ------------------------------------------------------------
# POSTGRESQL
# ------------------------------------------------------------

# DB_HOST & co. (as in Odoo's own Docker image) stand for the libpq variables that
# psql, dropdb, createdb and Odoo read
[ -n "${DB_HOST:-}" ] && export PGHOST=$DB_HOST
[ -n "${DB_PORT:-}" ] && export PGPORT=$DB_PORT
[ -n "${DB_USER:-}" ] && export PGUSER=$DB_USER
[ -n "${DB_PASSWORD:-}" ] && export PGPASSWORD=$DB_PASSWORD

pg_user() { printf '%s' "${PGUSER:-$(id -un)}"; }

# the server is this machine's: no PGHOST, a socket folder, or the loopback
pg_is_local() {
    case "${PGHOST:-}" in
        "" | /* | localhost | 127.0.0.1 | ::1) return 0 ;;
        *) return 1 ;;
    esac
}

pg_error() { psql -X -d postgres -Atc 'select 1' 2>&1 >/dev/null || true; }
pg_answers() { psql -X -d postgres -Atc 'select 1' >/dev/null 2>&1; }

# Debian's first cluster ("15 main"), or nothing
pg_cluster() { pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}'; }

pg_start_server() {
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local cluster
        cluster=$(pg_cluster)
        if [ -z "$cluster" ]; then
            local major
            major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
            root_step "creating a PostgreSQL cluster" '[ -n "$(pg_cluster)" ]' \
                "sudo pg_createcluster --start ${major:-15} main" "pg_createcluster --start ${major:-15} main"
            cluster=$(pg_cluster)
        fi
        # shellcheck disable=SC2086
        set -- $cluster
        if pg_lsclusters -h 2>/dev/null | awk -v v="$1" -v c="$2" '$1 == v && $2 == c && $4 == "online"' | grep -q .; then
            die "PostgreSQL cluster $1 $2 runs (port $(pg_lsclusters -h | awk -v v="$1" -v c="$2" '$1 == v && $2 == c {print $3}')) but does not answer at ${PGHOST:-the local socket}${PGPORT:+, port $PGPORT}:
  $(pg_error)
  Fix: set PGHOST/PGPORT to where it listens."
        fi
        root_step "starting PostgreSQL cluster $1 $2" "pg_wait_server" \
            "sudo pg_ctlcluster $1 $2 start" "pg_ctlcluster $1 $2 start"
    else
        root_step "starting the PostgreSQL server" "pg_wait_server" \
            "sudo systemctl start postgresql   (or: pg_ctl -D <its data folder> start, as its owner)"
    fi
}

# the server answers, whatever it says about us (up to 15 s)
pg_wait_server() {
    local i
    for i in $(seq 1 15); do
        pg_answers && return 0
        case "$(pg_error)" in
            *"No such file"* | *"Connection refused"* | *"could not connect"* | *"starting up"*) sleep 1 ;;
            *) return 0 ;;
        esac
    done
    return 1
}

# create_role USER: the role Odoo connects as, allowed to create databases (as
# Odoo's documentation creates it), with PGPASSWORD as its password when set
pg_create_role_command() {
    local user=$1
    if [ -n "${PGPASSWORD:-}" ]; then
        printf "createuser --createdb --pwprompt %s" "$user"
    else
        printf "createuser --createdb %s" "$user"
    fi
}

ensure_postgres() {
    command -v psql >/dev/null 2>&1 && command -v dropdb >/dev/null 2>&1 \
        || pkg_step "the PostgreSQL client and server" "command -v psql >/dev/null && command -v dropdb >/dev/null" \
            "postgresql" "install PostgreSQL $PG_MIN_VERSION or later (server and client) with your system's package manager"
    local user error
    user=$(pg_user)
    if ! pg_answers; then
        error=$(pg_error)
        case "$error" in
            *"No such file"* | *"Connection refused"* | *"could not connect"*)
                pg_is_local || die "the PostgreSQL server at ${PGHOST}:${PGPORT:-5432} does not answer:
  $error
  Fix: start it, or set PGHOST/PGPORT (or DB_HOST/DB_PORT) to a server that runs."
                command -v pg_lsclusters >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 \
                    || command -v postgres >/dev/null 2>&1 || [ -d /usr/lib/postgresql ] \
                    || pkg_step "the PostgreSQL server" "[ -d /usr/lib/postgresql ]" "postgresql" \
                        "install PostgreSQL $PG_MIN_VERSION or later with your system's package manager, or set PGHOST to a server"
                pg_start_server
                ;;
        esac
    fi
    if ! pg_answers; then
        error=$(pg_error)
        case "$error" in
            *"role \"$user\" does not exist"*)
                local shown="sudo -u postgres $(pg_create_role_command "$user")"
                if pg_is_local; then
                    root_step "creating the PostgreSQL role '$user'" pg_answers "$shown" \
                        "$(declare -f pg_create_role_as_root); pg_create_role_as_root '$user'"
                else
                    die "the server at $PGHOST has no role '$user'. Fix: ask its administrator for one, e.g.
      $shown"
                fi
                ;;
            *"password authentication failed"* | *"no password supplied"*)
                die "PostgreSQL refused the password of role '$user':
  $error
  Fix: set PGPASSWORD (or DB_PASSWORD) to the role's password. A new role with a password:
      sudo -u postgres createuser --createdb --pwprompt $user"
                ;;
            *"Peer authentication failed"*)
                die "PostgreSQL's local socket only admits the role named as your OS user ('$(id -un)'):
  $error
  Fix: connect over TCP with a password (PGHOST=localhost PGPASSWORD=...), or unset PGUSER."
                ;;
            *)
                die "PostgreSQL does not answer as role '$user'${PGHOST:+ on $PGHOST}:
  $error
  Fix: start the server and check PGHOST/PGPORT/PGUSER/PGPASSWORD (or DB_HOST...)."
                ;;
        esac
    fi
    pg_check_versions
}

# as root: the role of the OS user (or PGUSER), with PGPASSWORD as its password
pg_create_role_as_root() {
    local user=$1
    # as the postgres superuser over the local socket, not as the role being made
    local -a as_postgres=(env -u PGUSER -u PGPASSWORD -u PGDATABASE)
    case "${PGHOST:-}" in /*) ;; *) as_postgres+=(-u PGHOST) ;; esac
    as_postgres+=(runuser -u postgres --)
    "${as_postgres[@]}" createuser --createdb "$user"
    if [ -n "${PGPASSWORD:-}" ]; then
        printf '%s\n' "ALTER ROLE :\"role\" PASSWORD :'password';" \
            | "${as_postgres[@]}" psql -X -q -d postgres -v role="$user" -v password="$PGPASSWORD"
    fi
}

pg_check_versions() {
    local server client
    server=$(psql -X -d postgres -Atc 'show server_version_num')
    [ "$server" -ge $((PG_MIN_VERSION * 10000)) ] \
        || die "PostgreSQL $(psql -X -d postgres -Atc 'show server_version') is too old: $PG_MIN_VERSION or later is needed (dropdb --force)."
    client=$(dropdb --version | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
    [ "${client:-0}" -ge "$PG_MIN_VERSION" ] \
        || die "the PostgreSQL client ($(dropdb --version)) is too old: $PG_MIN_VERSION or later is needed (dropdb --force)."
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

# ------------------------------------------------------------
# CHROMIUM
# ------------------------------------------------------------

# browser_runs BIN: BIN starts and says it is Chromium or Chrome (Ubuntu's
# chromium-browser without the snap only prints how to install it)
browser_runs() {
    local version
    version=$(timeout 30 "$1" --version 2>/dev/null) || return 1
    case "$version" in
        *Chromium* | *Chrome*) return 0 ;;
        *) return 1 ;;
    esac
}

# the browser: CHROMIUM_BIN, else the first one on PATH that runs
find_chromium() {
    local candidate path
    if [ -n "${CHROMIUM_BIN:-}" ]; then
        path=$(command -v "$CHROMIUM_BIN" 2>/dev/null) && browser_runs "$path" && { printf '%s' "$path"; return 0; }
        return 1
    fi
    for candidate in chromium chromium-browser google-chrome google-chrome-stable chrome; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        browser_runs "$path" && { printf '%s' "$path"; return 0; }
    done
    return 1
}

os_id() { sed -n 's/^ID=//p' /etc/os-release 2>/dev/null | tr -d '"'; }

ensure_chromium() {
    local browser
    if [ -n "${CHROMIUM_BIN:-}" ] && ! find_chromium >/dev/null; then
        die "CHROMIUM_BIN=$CHROMIUM_BIN does not run as Chromium or Chrome ($CHROMIUM_BIN --version fails).
  Fix: point it at a working chromium or google-chrome, or unset it."
    fi
    if ! find_chromium >/dev/null; then
        case "$(os_id)" in
            ubuntu)
                # apt's chromium-browser on Ubuntu is the snap's stub
                root_step "a Chromium for the browser tests" "find_chromium >/dev/null" \
                    "sudo snap install chromium   (or install Google Chrome's .deb, or set CHROMIUM_BIN)" \
                    "$(command -v snap >/dev/null 2>&1 && echo 'snap install chromium')"
                ;;
            *)
                pkg_step "a Chromium for the browser tests" "find_chromium >/dev/null" "chromium" \
                    "install Chromium or Google Chrome with your system's package manager, or set CHROMIUM_BIN=/path/to/chrome"
                ;;
        esac
    fi
    browser=$(find_chromium) || die "no working Chromium or Chrome. Fix: install one, or set CHROMIUM_BIN."
    # Odoo's test browser is the first of google-chrome, chromium... on PATH: this one
    mkdir -p "$STATE/bin"
    ln -sfn "$browser" "$STATE/bin/google-chrome"
    export PATH="$STATE/bin:$PATH"
    say "browser for the tours: $browser ($(timeout 30 "$browser" --version 2>/dev/null))"
    ensure_cjk_font
}

# The zh_CN tour and the app page's screenshots show Chinese: without a CJK font
# Chromium draws empty boxes (the tests still pass, the screenshots look broken).
# Optional: without root the command is printed and the run goes on.
ensure_cjk_font() {
    fc-list :lang=zh 2>/dev/null | grep -q . && return 0
    if is_root && command -v apt-get >/dev/null 2>&1; then
        say "installing a Chinese font for the browser tests (apt-get install fonts-wqy-microhei)"
        bash -c "$(apt_install fonts-wqy-microhei)" >/dev/null 2>&1 || true
    fi
    fc-list :lang=zh 2>/dev/null | grep -q . \
        || say "warning: no Chinese font: screenshots will show boxes for Chinese text. Fix: sudo apt-get install fonts-wqy-microhei"
}

# ------------------------------------------------------------
# ODOO'S CONFIGURATION
# ------------------------------------------------------------

# write_conf [HTTP_PORT] [LIST_DB]: the configuration of this command's Odoo, with
# the PostgreSQL connection (PGHOST... or db_* = False: the local socket as your
# OS user), listening on HTTP_INTERFACE (default 127.0.0.1: this machine only).
# Readable by you alone: it may hold a password.
write_conf() {
    local http_port=${1:-8069} list_db=${2:-True}
    mkdir -p "$STATE/data"
    (
        umask 077
        cat >"$CONF" <<CONF
[options]
addons_path = $(odoo_addons_path)
data_dir = $STATE/data
http_interface = ${HTTP_INTERFACE:-127.0.0.1}
http_port = $http_port
db_host = ${PGHOST:-False}
db_port = ${PGPORT:-False}
db_user = ${PGUSER:-False}
db_password = ${PGPASSWORD:-False}
list_db = $list_db
log_level = ${LOG_LEVEL:-info}
CONF
        [ -z "${ADMIN_PASSWD:-}" ] || printf 'admin_passwd = %s\n' "$ADMIN_PASSWD" >>"$CONF"
    )
}
