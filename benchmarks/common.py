"""What the benchmarks share: Odoo's configuration, the databases, the measures.

Import it before ``odoo``: it finds Odoo 18.0 as ``scripts/lib.sh`` does and
puts it on ``sys.path``: ``$ODOO_PATH``, else ``/opt/odoo``, else the ``odoo``
package this Python finds (``pip install -e`` of a checkout), in Odoo's git
layout (``odoo/addons`` with base, ``addons/`` with the rest) or the packaged
one (everything under ``odoo/addons``). PostgreSQL is reached as the commands
reach it: ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD`` (or ``DB_HOST``...).

* ``setup(db)`` writes an Odoo configuration outside the repository
  (``$TMPDIR/sales_funnel_bench/``: configuration and filestore) and loads it;
  ``ensure_database(db, conf)`` creates the database with a module (the addon
  by default) and without demo data, or updates the module in an existing one;
  ``environment(db)`` opens it in-process as superuser; ``drop_database(db)``.
  ``add_database_options(parser)`` gives a benchmark ``--no-update``, ``--keep``
  and ``--drop``.
* ``measured(cr)`` times a block and counts its queries (``cr.sql_log_count``);
  ``commit_work(env)`` does what a commit does before ``COMMIT`` (pending
  writes, then the precommit hooks: tracking messages, followers), so that a
  measure includes it and can still be rolled back; ``commit_refused(cr)``
  makes sure of that, and ``without_autocommit()`` keeps Odoo's code that
  commits as it goes (outside tests) from doing so.
* ``print_ratio(label, value)``: every benchmark prints its ratio last.
"""

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from unittest.mock import patch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def odoo_tree_addons(path):
    """Odoo's own addons folders in the source tree ``path``; None when it is none:
    ``odoo/addons`` (base; everything in the packaged tree) and, in Odoo's git
    checkout, ``addons/`` (crm and the rest)."""
    odoo_addons = os.path.join(path, "odoo", "addons")
    if not os.path.isfile(os.path.join(odoo_addons, "base", "__manifest__.py")):
        return None
    folders = [odoo_addons]
    git_addons = os.path.join(path, "addons")
    if os.path.isfile(os.path.join(git_addons, "crm", "__manifest__.py")):
        folders.append(git_addons)
    if not any(
        os.path.isfile(os.path.join(f, "crm", "__manifest__.py")) for f in folders
    ):
        return None
    return folders


def find_odoo():
    """(the folder holding the odoo package, Odoo's addons folders), found as
    scripts/lib.sh's find_odoo finds them."""
    if os.environ.get("ODOO_PATH"):
        candidates = [os.environ["ODOO_PATH"]]
    else:
        candidates = ["/opt/odoo"]
        spec = importlib.util.find_spec("odoo")
        if spec and spec.submodule_search_locations:
            package = list(spec.submodule_search_locations)[0]
            candidates.append(os.path.dirname(os.path.abspath(package)))
    for path in candidates:
        addons = odoo_tree_addons(path)
        if addons:
            return path, addons
    raise SystemExit(
        f"no Odoo 18.0 source tree with crm in {' or '.join(candidates)}: set ODOO_PATH "
        "to Odoo's git checkout or its packaged source tree"
    )


ODOO_PATH, ODOO_ADDONS = find_odoo()
if ODOO_PATH not in sys.path:
    sys.path.insert(0, ODOO_PATH)

import odoo  # noqa: E402
from odoo.tools import SQL  # noqa: E402

MODULE = "sales_funnel_method"
STATE_DIR = os.path.join(tempfile.gettempdir(), "sales_funnel_bench")


# ------------------------------------------------------------
# DATABASE
# ------------------------------------------------------------


def write_conf(state_dir=STATE_DIR):
    """An Odoo configuration like scripts/lib.sh's write_conf, outside the repository."""
    os.makedirs(os.path.join(state_dir, "data"), exist_ok=True)
    conf = os.path.join(state_dir, "odoo.conf")
    addons_path = ",".join([ROOT, *ODOO_ADDONS])
    database = {
        key: os.environ.get(f"DB_{key.upper()}") or os.environ.get(f"PG{key.upper()}")
        for key in ("host", "port", "user", "password")
    }
    with open(
        os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
    ) as handle:
        handle.write(
            "[options]\n"
            f"addons_path = {addons_path}\n"
            f"data_dir = {os.path.join(state_dir, 'data')}\n"
            + "".join(
                f"db_{key} = {value or False}\n" for key, value in database.items()
            )
            + "log_level = warn\n"
        )
    return conf


def setup(db=None):
    """Write the configuration and load it in this process; returns its path."""
    conf = write_conf()
    odoo.tools.config.parse_config(
        ["-c", conf, *(["-d", db] if db else [])], setup_logging=True
    )
    return conf


def module_state(db, module=MODULE):
    """State of ``module`` in ``db``; None when the database does not exist."""
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if not cr.fetchone():
            return None
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if not cr.fetchone()[0]:
            return "uninstalled"
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [module])
        row = cr.fetchone()
        return row[0] if row else "uninstalled"


def odoo_bin(conf, db, *options):
    odoo_bin = os.path.join(ODOO_PATH, "odoo-bin")
    # an installed package has no odoo-bin: start Odoo as odoo-bin does
    start = (
        [odoo_bin]
        if os.path.isfile(odoo_bin)
        else ["-c", "import odoo; odoo.cli.main()"]
    )
    subprocess.run(
        [
            sys.executable,
            *start,
            "-c",
            conf,
            "-d",
            db,
            *options,
            "--stop-after-init",
        ],
        check=True,
        env=dict(os.environ, PYTHONPATH=ODOO_PATH, TZ="UTC"),
    )
    # the database and its connections were made by another process
    odoo.sql_db.close_db(db)


def ensure_database(db, conf, update=True, module=MODULE):
    """Create ``db`` with ``module`` and without demo data (the database itself
    when missing); in a database where it is installed, update it so that the
    schema follows the code, unless ``update`` is false."""
    start = time.perf_counter()
    if module_state(db, module) == "installed":
        if not update:
            print(f"reusing database {db} as it is", flush=True)
            return
        print(f"reusing database {db}: updating {module}", flush=True)
        odoo_bin(conf, db, "-u", module)
    else:
        print(f"installing {module} in database {db} (about a minute)", flush=True)
        odoo_bin(conf, db, "-i", module, "--without-demo=all")
    print(f"database {db} ready in {time.perf_counter() - start:.0f} s", flush=True)


def drop_database(db):
    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(SQL("DROP DATABASE %s", SQL.identifier(db)))
    shutil.rmtree(odoo.tools.config.filestore(db), ignore_errors=True)
    print(f"dropped database {db}", flush=True)


@contextlib.contextmanager
def environment(db):
    """A superuser environment on a new cursor of ``db``, closed at the end
    (without commit: whatever must stay is committed by the caller)."""
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.rollback()


def add_database_options(parser, why_keep):
    """--no-update, --keep and --drop, shared by the benchmarks."""
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help="reuse an existing database without updating the addon first",
    )
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep",
        dest="keep",
        action="store_true",
        default=True,
        help=f"keep the database at the end (default: {why_keep})",
    )
    keep.add_argument(
        "--drop", dest="keep", action="store_false", help="drop the database at the end"
    )


# ------------------------------------------------------------
# MEASURE
# ------------------------------------------------------------


@contextlib.contextmanager
def measured(cr):
    """Time the block and count its queries: yields a dict that gets ``time``
    (seconds) and ``queries`` when the block ends."""
    result = {}
    queries = cr.sql_log_count
    start = time.perf_counter()
    yield result
    result["time"] = time.perf_counter() - start
    result["queries"] = cr.sql_log_count - queries


def commit_work(env):
    """What a commit does before ``COMMIT`` itself: the pending writes, then the
    precommit hooks (tracking messages, followers) and what they leave pending."""
    env.flush_all()
    env.cr.precommit.run()
    env.flush_all()


@contextlib.contextmanager
def commit_refused(cr, label):
    """Fail loudly if the block commits: the benchmark could not roll it back."""

    def refuse_commit():
        raise RuntimeError(f"{label} committed: the benchmark could not roll it back")

    with patch.object(cr, "commit", refuse_commit):
        yield


@contextlib.contextmanager
def without_autocommit():
    """Odoo's lead assignment commits every 100 leads unless the thread is marked
    as testing (what its test runner does): mark it, so that it can be rolled back."""
    thread = threading.current_thread()
    previous = getattr(thread, "testing", False)
    thread.testing = True
    try:
        yield
    finally:
        thread.testing = previous


def table_max_id(cr, table):
    cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table)))
    return cr.fetchone()[0]


def table_count(cr, table):
    cr.execute(SQL("SELECT COUNT(*) FROM %s", SQL.identifier(table)))
    return cr.fetchone()[0]


def print_ratio(label, value, digits=2):
    """The benchmark's result, printed as its last line: ``ratio <label>: <value>``."""
    print(f"ratio {label}: {value:.{digits}f}", flush=True)
