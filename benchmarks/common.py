"""What the benchmarks share: Odoo's configuration, the databases, the measures.

Import it before ``odoo``: it puts Odoo's source (``$ODOO_PATH``, ``/opt/odoo``
by default) on ``sys.path``, as ``PYTHONPATH=/opt/odoo`` does for ``odoo-bin``
in ``scripts/lib.sh``.

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
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from unittest.mock import patch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_PATH = os.environ.get("ODOO_PATH", "/opt/odoo")
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
    addons_path = ",".join([ROOT, os.path.join(ODOO_PATH, "odoo", "addons")])
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(
            "[options]\n"
            f"addons_path = {addons_path}\n"
            f"data_dir = {os.path.join(state_dir, 'data')}\n"
            "db_host = False\n"
            "db_port = False\n"
            "db_user = False\n"
            "db_password = False\n"
            "log_level = warn\n"
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
    subprocess.run(
        [
            sys.executable,
            os.path.join(ODOO_PATH, "odoo-bin"),
            "-c",
            conf,
            "-d",
            db,
            *options,
            "--stop-after-init",
        ],
        check=True,
        env=dict(os.environ, PYTHONPATH=ODOO_PATH),
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
