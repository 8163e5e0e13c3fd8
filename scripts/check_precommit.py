"""The pre-commit hooks run the lint stack of scripts/lint.sh at the same versions.

``.pre-commit-config.yaml`` names each tool's version by itself (a hook's ``rev``,
``additional_dependencies``); ``requirements-lock.txt`` and ``package.json`` pin
the ones ``make lint`` runs. This check (run by scripts/lint.sh) fails when they
differ, so that a contributor's hooks and CI cannot disagree.

    python scripts/check_precommit.py
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def locked_python():
    pins = {}
    for line in (
        (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines()
    ):
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def hook_versions(config):
    """(tool, version) pairs named by the config: repo revs and pinned dependencies."""
    found = []
    repos = {
        "astral-sh/ruff-pre-commit": "ruff",
        "OCA/pylint-odoo": "pylint-odoo",
    }
    for repo, tool in repos.items():
        match = re.search(
            rf"repo: https://github\.com/{re.escape(repo)}\s+rev: v?([^\s#]+)", config
        )
        found.append((tool, match[1] if match else None))
    for name, version in re.findall(
        r'^\s*-\s*"?((?:@[\w.-]+/)?[\w.-]+)(?:==|@)([\w.-]+)"?\s*$', config, re.M
    ):
        found.append((name.lower(), version))
    return found


def main():
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    wanted = locked_python()
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    wanted.update(package["devDependencies"])
    errors = []
    seen = set()
    for tool, version in hook_versions(config):
        seen.add(tool)
        if version is None:
            errors.append(f"{tool}: no hook in .pre-commit-config.yaml")
        elif tool not in wanted:
            errors.append(
                f"{tool} {version}: pinned neither in requirements-lock.txt nor package.json"
            )
        elif wanted[tool] != version:
            errors.append(
                f"{tool}: {version} in .pre-commit-config.yaml, {wanted[tool]} in the lock files"
            )
    for tool in ("ruff", "pylint-odoo", "pylint", "prettier", "@prettier/plugin-xml"):
        if tool not in seen:
            errors.append(f"{tool}: not pinned in .pre-commit-config.yaml")
    if errors:
        print("pre-commit hooks and make lint differ:\n  " + "\n  ".join(errors))
        return 1
    print(f"pre-commit hooks at the versions of make lint ({len(seen)} tools)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
