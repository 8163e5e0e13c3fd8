"""PostgreSQL settings for one statement's needs, not the rest of the request."""

from contextlib import contextmanager, suppress

import psycopg2

from odoo.tools import SQL


@contextmanager
def local_work_mem(cr, size="64MB"):
    """Run the block with PostgreSQL's ``work_mem`` (the memory a sort or a hash
    may take before it spills to disk) at ``size``, then set it back to what it
    was. ``SET LOCAL`` alone would hold until the end of the transaction, for
    every query that follows in the same request (a screen may read several
    reports in one), where more room can change the planner's choices.

    On a database error the block's transaction or savepoint is rolled back,
    and the setting with it: nothing is run on the aborted transaction."""
    cr.execute(
        SQL(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
            size,
        )
    )
    restore = SQL("SELECT set_config('work_mem', %s, true)", cr.fetchone()[0])
    try:
        yield
    except psycopg2.Error:
        raise  # the rollback that follows sets it back
    except Exception:
        # (the transaction may still have been aborted by an error caught inside)
        with suppress(psycopg2.Error):
            cr.execute(restore, log_exceptions=False)
        raise
    cr.execute(restore)
