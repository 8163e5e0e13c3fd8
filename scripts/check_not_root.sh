#!/usr/bin/env bash
# The set-up as users run it (issue 15): an OS user who is not root, and a
# PostgreSQL role with a password on the same server, over TCP. As root, this
# makes both for the run (and removes them afterwards), copies the working tree
# into the user's own folder, and as that user, with a clean environment:
#   1. make test ARGS=<one test module> with PGHOST/PGPORT/PGUSER/PGPASSWORD:
#      a virtualenv of its own, a fresh install, the tests; the generated
#      odoo.conf must carry the connection and be readable by the user alone;
#   2. the same without PGUSER, whose role does not exist: the run must stop with
#      the exact command that creates it (a step that needs root, not run here).
# Run by someone who is not root, the whole of make test is that check already.
#
#   bash scripts/check_not_root.sh      # about three minutes (the virtualenv)
# Environment: NOT_ROOT_DB (TEST_DB_user), NOT_ROOT_TESTS (the test module),
# TEST_PORT, and lib.sh's.
source "$(dirname "$0")/lib.sh"

DB=${NOT_ROOT_DB:-${TEST_DB:-sales_funnel_test}_user}
TESTS=${NOT_ROOT_TESTS:-sales_funnel_method/tests/test_funnel_layers.py}

if ! is_root; then
    say "NOTICE: running as $(id -un), not root: this make test is itself the set-up as a user who is not root"
    exit 0
fi
for tool in useradd userdel runuser; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed to make a throw-away user for this check"
done
find_odoo
ensure_postgres
ensure_chromium

# names of this run only: two runs on one machine do not share them
suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
user=sfm_user_$suffix
role=sfm_role_$suffix
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
port=$(psql -X -d postgres -Atc 'show port')

work=$(mktemp -d /tmp/sfm_not_root.XXXXXX)
as_postgres() {
    local -a clean=(env -u PGUSER -u PGPASSWORD -u PGDATABASE)
    case "${PGHOST:-}" in /*) ;; *) clean+=(-u PGHOST) ;; esac
    "${clean[@]}" runuser -u postgres -- "$@"
}
cleanup() {
    as_postgres dropdb --if-exists --force "$DB" >/dev/null 2>&1 || true
    as_postgres dropuser --if-exists "$role" >/dev/null 2>&1 || true
    userdel "$user" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

say "user '$user' (not root) and PostgreSQL role '$role' with a password (createdb only)"
chmod 755 "$work"
useradd --home-dir "$work/home" --create-home --shell /bin/bash --user-group "$user"
printf '%s\n' "CREATE ROLE :\"role\" LOGIN CREATEDB PASSWORD :'password';" \
    | as_postgres psql -X -q -d postgres -v role="$role" -v password="$password"

# the working tree as the user's own clone (without what the commands make)
mkdir "$work/repo"
tar -C "$ROOT" --exclude=./.venv --exclude=./.odoo --exclude=./node_modules \
    --exclude=__pycache__ --exclude=./.git -cf - . | tar -C "$work/repo" -xf -
chown -R "$user:" "$work/repo"

# as the user, in a clean environment: the machine's package index settings
# (pip's, as root has them) and nothing else of root's
mapfile -t pip_env < <("$PY" -m pip config list 2>/dev/null | sed -n "s/^\(global\|install\)\.\([a-z-]*\)='\(.*\)'$/\2=\3/p" \
    | while IFS='=' read -r key value; do
        key=${key//-/_}
        printf 'PIP_%s=%s\n' "${key^^}" "$value"
    done
    env | grep '^PIP_' || true)
as_user() {
    runuser -u "$user" -- env -i HOME="$work/home" USER="$user" LOGNAME="$user" \
        PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 CI="${CI:-}" \
        ODOO_PATH="${ODOO_PATH_GIVEN:-}" TEST_DB="$DB" TEST_PORT="${TEST_PORT:-8169}" \
        ${CHROMIUM_BIN:+CHROMIUM_BIN="$CHROMIUM_BIN"} "${pip_env[@]}" "$@"
}
[ "$ODOO_LAYOUT" = package ] || ODOO_PATH_GIVEN=$ODOO_PATH

say "1. make test ARGS=$TESTS as '$user', PGHOST=127.0.0.1 PGPORT=$port PGUSER=$role PGPASSWORD=..."
as_user PGHOST=127.0.0.1 PGPORT="$port" PGUSER="$role" PGPASSWORD="$password" \
    bash -c "cd '$work/repo' && make test ARGS='$TESTS'" </dev/null \
    || die "make test ARGS=$TESTS failed as '$user' with a password-protected role"
conf=$work/repo/.odoo/test.conf
grep -qx "db_user = $role" "$conf" && grep -qx "db_host = 127.0.0.1" "$conf" \
    && grep -qx "db_port = $port" "$conf" && grep -qx "db_password = $password" "$conf" \
    || die "the generated $conf does not carry the PostgreSQL connection: $(grep '^db_' "$conf" | grep -v password)"
[ "$(stat -c %a "$conf")" = 600 ] || die "$conf may be read by others (mode $(stat -c %a "$conf"))"
say "the generated odoo.conf carries the connection (db_host, db_port, db_user, db_password), mode 600"

say "2. the same without PGUSER: role '$user' does not exist, the run must say how to create it"
out=$work/no_role.log
if as_user bash -c "cd '$work/repo' && make test ARGS='$TESTS'" </dev/null >"$out" 2>&1; then
    die "make test went on without a PostgreSQL role for '$user'"
fi
grep -F "sudo -u postgres createuser --createdb $user" "$out" >&2 \
    || { tail -n 20 "$out" >&2; die "the run without a role did not print the command that creates it"; }
say "set-up as a user who is not root OK: installed and tested as '$user' with a password-protected role; a missing role names its command"
