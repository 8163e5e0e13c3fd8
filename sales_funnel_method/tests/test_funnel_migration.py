import ast
from pathlib import Path

from odoo.modules.module import adapt_version, get_manifest, get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools import parse_version

MODULE = "sales_funnel_method"
# the first release: no database holds an older version, nothing to migrate from
FIRST_RELEASE = "18.0.1.0.0"
# the scripts Odoo's migration manager runs (odoo/modules/migration.py)
SCRIPT_PREFIXES = ("pre-", "post-", "end-")


def migration_folders(module_path):
    """{full version: folder} of the addon's ``migrations/`` and ``upgrades/``."""
    folders = {}
    for root in ("migrations", "upgrades"):
        for folder in sorted(Path(module_path, root).glob("*")):
            if folder.is_dir() and folder.name != "__pycache__":
                folders.setdefault(adapt_version(folder.name), []).append(folder)
    return folders


def migration_scripts(folders):
    return [
        script
        for folder in folders
        for script in sorted(folder.glob("*.py"))
        if script.name.startswith(SCRIPT_PREFIXES)
    ]


def defines_migrate(script):
    """The script defines ``migrate(cr, version)``, the function Odoo calls."""
    tree = ast.parse(script.read_text(), filename=str(script))
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name == "migrate"
        and len(node.args.args) == 2
        for node in tree.body
    )


@tagged("post_install", "-at_install")
class TestFunnelMigration(TransactionCase):
    """Release policy (docs/RELEASING.md): every version after the first release
    ships the migration scripts that take a database from the previous release to
    it, in ``migrations/<version>/``; scripts/check_lifecycle.sh upgrades a
    database of the previous release to prove them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.version = adapt_version(get_manifest(MODULE)["version"])
        cls.folders = migration_folders(get_module_path(MODULE))

    def test_version_bump_ships_migration(self):
        """A version after the first release has its migration folder, with a pre-,
        post- or end- script."""
        self.assertTrue(
            parse_version(self.version) >= parse_version(FIRST_RELEASE),
            f"the version {self.version} is older than the first release",
        )
        if self.version == FIRST_RELEASE:
            return
        scripts = migration_scripts(self.folders.get(self.version, []))
        self.assertTrue(
            scripts,
            f"{MODULE} is at version {self.version}: add migrations/{self.version}/ "
            "with a pre-migrate.py or post-migrate.py (migrate(cr, version)) that takes "
            "a database of the previous release to this version, even if it only "
            "says why nothing needs migrating (see docs/RELEASING.md)",
        )

    def test_migration_folders(self):
        """Each migration folder names a released version (after the first release,
        not after the manifest's), and each script defines migrate(cr, version)."""
        for version, folders in self.folders.items():
            with self.subTest(version=version):
                # Odoo runs the scripts of migrations/0.0.0/ at every upgrade
                every_upgrade = all(folder.name == "0.0.0" for folder in folders)
                self.assertTrue(
                    every_upgrade
                    or parse_version(version) > parse_version(FIRST_RELEASE),
                    f"{folders[0]}: nothing migrates to the first release",
                )
                self.assertTrue(
                    every_upgrade
                    or parse_version(version) <= parse_version(self.version),
                    f"{folders[0]} is for a version after the manifest's {self.version}: "
                    "bump the version in __manifest__.py",
                )
                scripts = migration_scripts(folders)
                self.assertTrue(scripts, f"{folders[0]} holds no migration script")
                for script in scripts:
                    self.assertTrue(
                        defines_migrate(script),
                        f"{script} does not define migrate(cr, version)",
                    )
