# The two commands of this project. Both set up what is missing on a fresh machine.
#   make run    Odoo 18 with sales_funnel_method and demo data on http://localhost:8069
#   make test   everything CI runs: lint, the whole test suite (pytest-odoo, browser tours
#               included) on a fresh database, then the checks beyond pytest
#   make test ARGS="-k grade"   pytest only, with those arguments
# And for working on the addon:
#   make lint   the OCA lint stack alone (ruff, pylint-odoo, prettier on the XML)
#   make format rewrite the code in the house format (ruff format, prettier --write on the XML)
#   make screenshots  take the app page's screenshots into static/description/screenshots/
#   make lock   pin requirements.txt again (requirements-lock.txt; needs the package index)
.PHONY: run test lint format screenshots lock

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/lint.sh

format:
	bash scripts/lint.sh --format

screenshots:
	bash scripts/screenshots.sh

lock:
	bash scripts/lock.sh
