#!/usr/bin/env bash
# The OCA lint stack: ruff (lint and format, .ruff.toml) and pylint-odoo's
# mandatory checks (.pylintrc-mandatory). Exits non-zero on any violation.
source "$(dirname "$0")/lib.sh"
ensure_odoo
ensure_venv
cd "$ROOT"
targets=(sales_funnel_method scripts benchmarks conftest.py)
status=0
say "ruff check"
"$VENV/bin/ruff" check "${targets[@]}" || status=1
say "ruff format --check"
"$VENV/bin/ruff" format --check "${targets[@]}" || status=1
say "pylint-odoo (mandatory checks)"
"$VENV/bin/pylint" --rcfile=.pylintrc-mandatory sales_funnel_method || status=1
[ "$status" = 0 ] || die "lint violations (above). Fix: .venv/bin/ruff format . && .venv/bin/ruff check --fix ."
say "lint clean"
