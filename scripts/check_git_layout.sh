#!/usr/bin/env bash
# The addon on Odoo's git checkout layout (issue 15): users `git clone` Odoo 18.0,
# where odoo/addons holds only base and the core test modules and addons/ holds the
# rest (crm among them). Built here from the packaged tree at ODOO_PATH as a folder
# of links (odoo-bin is copied: Python resolves a linked script's folder, which
# would import the packaged tree), then `make test ARGS=...` runs on it with its own
# state folder: lib.sh's detection, a fresh install and one test module.
#
# Then, in seconds: Odoo as an installed package found by import (a folder with a
# link to the odoo package on PYTHONPATH, nothing at ODOO_PATH): lib.sh finds it
# and starts it.
#
#   bash scripts/check_git_layout.sh      # about a minute
# Environment: GIT_LAYOUT_DB (TEST_DB_git), GIT_LAYOUT_TESTS (the test module),
# TEST_PORT, and lib.sh's.
source "$(dirname "$0")/lib.sh"

DB=${GIT_LAYOUT_DB:-${TEST_DB:-sales_funnel_test}_git}
TESTS=${GIT_LAYOUT_TESTS:-sales_funnel_method/tests/test_funnel_grade.py}

find_odoo
if [ "$ODOO_LAYOUT" = git ]; then
    say "NOTICE: ODOO_PATH=$ODOO_PATH is already Odoo's git layout: make test ran on it"
    exit 0
fi
[ "$ODOO_LAYOUT" = packaged ] || {
    say "NOTICE: Odoo is an installed package ($ODOO_PATH): no source tree to build a git layout from"
    exit 0
}
source=$ODOO_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/sfm_git_layout.XXXXXX")
cleanup() {
    STATE=$work/state drop_database "$DB" || true
    rm -rf "$work"
}
trap cleanup EXIT

tree=$work/odoo
say "building Odoo's git layout from $source in $tree"
mkdir -p "$tree/odoo/addons" "$tree/addons"
cp "$source/odoo-bin" "$tree/odoo-bin"
for entry in "$source"/odoo/*; do
    [ "$(basename "$entry")" = addons ] && continue
    cp -rs "$entry" "$tree/odoo/"
done
ln -s "$source/odoo/addons/__init__.py" "$tree/odoo/addons/__init__.py"
for module in "$source"/odoo/addons/*/; do
    module=${module%/}
    name=$(basename "$module")
    case "$name" in
        base | test_*) ln -s "$module" "$tree/odoo/addons/$name" ;;
        *) ln -s "$module" "$tree/addons/$name" ;;
    esac
done
say "$(find "$tree/odoo/addons" -mindepth 1 -maxdepth 1 -type l -name '[a-z]*' | wc -l) modules in odoo/addons (base, test_*), $(find "$tree/addons" -mindepth 1 -maxdepth 1 | wc -l) in addons/"

# a clean environment: lib.sh finds the layout again from ODOO_PATH
unset ODOO_LAYOUT ODOO_ADDONS ODOO_BIN
export PYTHONPATH=${PYTHONPATH#"$source"}
PYTHONPATH=${PYTHONPATH#:}
export ODOO_PATH=$tree STATE=$work/state TEST_DB=$DB
(
    find_odoo
    [ "$ODOO_LAYOUT" = git ] || die "lib.sh took $tree for the $ODOO_LAYOUT layout, not git"
    [ "$ODOO_ADDONS" = "$tree/odoo/addons,$tree/addons" ] \
        || die "lib.sh's addons path on the git layout is $ODOO_ADDONS"
    say "lib.sh: $ODOO_LAYOUT layout, Odoo's addons path $ODOO_ADDONS"
)
CONF=$STATE/test.conf bash "$ROOT/scripts/test.sh" "$TESTS" || die "make test ARGS=$TESTS failed on the git layout"

# the modules came from the layout's folders, not from the packaged tree
CONF=$STATE/test.conf
PYTHONPATH=$tree${PYTHONPATH:+:$PYTHONPATH} "$PY" - "$CONF" "$tree" <<'PY' || die "Odoo did not load its modules from the git layout"
import sys

import odoo

conf, tree = sys.argv[1:]
odoo.tools.config.parse_config(["-c", conf])
odoo.modules.module.initialize_sys_path()
paths = {name: odoo.modules.get_module_path(name) for name in ("base", "crm", "sales_funnel_method")}
print("[git layout] modules from:", paths)
assert odoo.__file__.startswith(tree + "/odoo/"), odoo.__file__
assert paths["base"] == f"{tree}/odoo/addons/base", paths
assert paths["crm"] == f"{tree}/addons/crm", paths
PY
say "git layout OK: installed and tested on $tree (odoo/addons + addons/)"

# and Odoo as an installed package, found by import (pip's site-packages, a
# distribution's package): no ODOO_PATH, nothing at the default path, the odoo
# package on the Python's path; lib.sh must find it and start it
site=$work/site-packages
mkdir -p "$site"
ln -s "$source/odoo" "$site/odoo"
(
    unset ODOO_PATH
    export ODOO_DEFAULT_PATH=$work/none PYTHONPATH=$site STATE=$work/package-state
    find_odoo
    [ "$ODOO_LAYOUT" = package ] && [ "$ODOO_ADDONS" = "$STATE/odoo-package/odoo/addons" ] \
        || die "lib.sh took the odoo package in $site for $ODOO_LAYOUT ($ODOO_ADDONS)"
    "$PY" "$ODOO_BIN" --version | grep -q "Odoo Server 18.0" || die "Odoo does not start from the package in $site"
    say "lib.sh: the odoo package found by import in $site, started by $ODOO_BIN"
)
