"""PostgreSQL settings for one statement's needs, not the rest of the request."""

from contextlib import contextmanager

from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo.tools import SQL


@contextmanager
def local_work_mem(cr, size="64MB"):
    """Run the block with PostgreSQL's ``work_mem`` (the memory a sort or a hash
    may take before it spills to disk) at ``size``, then set it back to what it
    was. ``SET LOCAL`` alone would hold until the end of the transaction, for
    every query that follows in the same request (a screen may read several
    reports in one), where more room can change the planner's choices.

    It is set back whatever ends the block, an error too (a savepoint rolled
    back inside it, say), except an error that aborted the transaction: the
    rollback that must follow sets it back."""
    cr.execute(
        SQL(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
            size,
        )
    )
    restore = SQL("SELECT set_config('work_mem', %s, true)", cr.fetchone()[0])
    try:
        yield
    finally:
        # after an error that aborted the transaction, nothing can run on it:
        # its rollback sets the memory back
        if cr.connection.info.transaction_status != TRANSACTION_STATUS_INERROR:
            cr.execute(restore)
