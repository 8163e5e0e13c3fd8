#!/usr/bin/env bash
# The OCA lint stack: ruff (lint and format, .ruff.toml), pylint-odoo's
# mandatory checks (.pylintrc-mandatory) and prettier with @prettier/plugin-xml
# on the addon's XML (.prettierrc.yml, versions pinned in package-lock.json); the
# same stack runs as pre-commit hooks (.pre-commit-config.yaml, same versions:
# scripts/check_precommit.py). Exits non-zero on any violation.
#   bash scripts/lint.sh           check only
#   bash scripts/lint.sh --format  rewrite: ruff format + prettier --write (make format)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
targets=(sales_funnel_method scripts benchmarks conftest.py)
# quoted: prettier expands the glob itself and honours .prettierignore
xml_glob='sales_funnel_method/**/*.xml'

# prettier and its XML plugin, installed from package-lock.json into ./node_modules;
# skipped when node_modules was installed from the current lock.
ensure_node_tools() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
        || pkg_step "node and npm for prettier (XML formatting)" \
            "command -v node >/dev/null && command -v npm >/dev/null" "nodejs npm" \
            "install Node.js 18 or later with npm"
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 18 ] \
        || die "node $(node --version) is too old for prettier 3 (18 or later needed). Fix: apt-get install nodejs npm from a newer release (or NodeSource)"
    local stamp=$ROOT/node_modules/.package-lock.sha
    local want
    want=$(sha1sum "$ROOT/package-lock.json" | cut -d' ' -f1)
    if [ -x "$ROOT/node_modules/.bin/prettier" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "installing prettier and @prettier/plugin-xml (npm ci, package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error \
        || die "npm ci could not install the node tools of package-lock.json (see the messages above)."
    echo "$want" > "$stamp"
}

ensure_odoo
ensure_venv
ensure_node_tools

if [ "${1:-}" = "--format" ]; then
    say "ruff format"
    "$VENV/bin/ruff" format "${targets[@]}"
    say "prettier --write (XML)"
    npx --no-install prettier --write --log-level=warn "$xml_glob"
    say "formatted; run bash scripts/lint.sh for what is left (ruff check --fix, pylint-odoo)"
    exit 0
fi

status=0
say "ruff check"
"$VENV/bin/ruff" check "${targets[@]}" || status=1
say "ruff format --check"
"$VENV/bin/ruff" format --check "${targets[@]}" || status=1
say "pylint-odoo (mandatory checks)"
"$VENV/bin/pylint" --rcfile=.pylintrc-mandatory sales_funnel_method || status=1
say "prettier --check (XML, @prettier/plugin-xml)"
if ! npx --no-install prettier --check "$xml_glob"; then
    say "XML not formatted. Fix: make format (or npx prettier --write '$xml_glob')"
    status=1
fi
say "pre-commit hooks at the same versions (scripts/check_precommit.py)"
"$PY" scripts/check_precommit.py || status=1
[ "$status" = 0 ] || die "lint violations (above). Fix: make format (ruff format + prettier --write), then .venv/bin/ruff check --fix ."
say "lint clean"
