# The two commands of this project. Both set up what is missing on a fresh machine.
#   make run   Odoo 18 with sales_funnel_method and demo data on http://localhost:8069
#   make test  lint, then the whole test suite (pytest-odoo, browser tours included) on a fresh database
#   make lint  the OCA lint stack alone (ruff, pylint-odoo, prettier on the XML)
#   make format  rewrite the code in the house format (ruff format, prettier --write on the XML)
.PHONY: run test lint format

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/lint.sh

format:
	bash scripts/lint.sh --format
