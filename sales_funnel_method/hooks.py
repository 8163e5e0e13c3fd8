from odoo.tools import SQL, convert_file
from odoo.tools.translate import TranslationImporter, get_po_paths

from .models.crm_lead import COMPANY_NAME_INDEX, HOLDINGS_INDEX
from .report.crm_funnel_report_holding import HOLDER_INDEX

# where the records the addon created but customers still use keep their xml ids
# while the addon is not installed: the layers' stages, the abandon reasons
KEPT_MODULE = "__sales_funnel_method_kept__"
# what a manager may have changed in the CRM columns of those records, set aside
# during a reinstall (a temporary table per model, dropped at the installing
# transaction's end: Odoo does not commit between the pre- and post-init hooks)
KEPT_RECORDS = {
    "crm.stage": (
        "crm_stage",
        "sales_funnel_method_kept_stage",
        ("name", "sequence", "fold", "requirements"),
    ),
    "crm.lost.reason": (
        "crm_lost_reason",
        "sales_funnel_method_kept_lost_reason",
        ("name",),
    ),
}


def pre_init_hook(env):
    """Reinstalling: the layers' stages and the abandon reasons kept at uninstall
    become the addon's again.

    Installing a module loads its data over the records of its xml ids, noupdate
    or not: what a manager changed in their CRM columns (the names, the stages'
    order, folding and requirements) is set aside here and put back by
    post_init_hook.

    The sales teams that exist before the addon (Odoo's own "Sales") do not work
    the funnel until a manager ticks it on the team; teams created afterwards do
    (the field's default). The column is made here so that the ORM does not give
    the existing teams that default."""
    env.cr.execute("ALTER TABLE crm_team ADD COLUMN IF NOT EXISTS use_funnel boolean")
    env.cr.execute("UPDATE crm_team SET use_funnel = FALSE WHERE use_funnel IS NULL")
    for model, (table, kept_table, columns) in KEPT_RECORDS.items():
        env.cr.execute(
            """UPDATE ir_model_data SET module = 'sales_funnel_method'
                WHERE module = %s AND model = %s
            RETURNING res_id""",
            [KEPT_MODULE, model],
        )
        record_ids = [row[0] for row in env.cr.fetchall()]
        if record_ids:
            env.cr.execute(
                SQL(
                    "CREATE TEMPORARY TABLE %s ON COMMIT DROP AS SELECT id, %s FROM %s WHERE id = ANY(%s)",
                    SQL.identifier(kept_table),
                    SQL(", ").join(SQL.identifier(column) for column in columns),
                    SQL.identifier(table),
                    record_ids,
                )
            )


def _restore_kept_records(env, model):
    """Put back what pre_init_hook set aside of ``model``; returns the records
    taken back."""
    table, kept_table, columns = KEPT_RECORDS[model]
    env.cr.execute("SELECT to_regclass(%s)", [f"pg_temp.{kept_table}"])
    if not env.cr.fetchone()[0]:
        return env[model]
    env.flush_all()
    # the names' translations the reinstall loaded stay where the kept ones lack
    # a language (one installed while the addon was not)
    assignments = [
        SQL("name = %s.name || kept.name", SQL.identifier(table))
        if column == "name"
        else SQL("%s = kept.%s", SQL.identifier(column), SQL.identifier(column))
        for column in columns
    ]
    env.cr.execute(
        SQL(
            "UPDATE %s SET %s FROM %s kept WHERE %s.id = kept.id RETURNING %s.id",
            SQL.identifier(table),
            SQL(", ").join(assignments),
            SQL.identifier(kept_table),
            SQL.identifier(table),
            SQL.identifier(table),
        )
    )
    records = env[model].browse([row[0] for row in env.cr.fetchall()])
    env.cr.execute(SQL("DROP TABLE %s", SQL.identifier(kept_table)))
    records.invalidate_recordset(list(columns))
    return records


def uninstall_hook(env):
    """What customers still use stays, as plain CRM records.

    Odoo deletes the records a module created when it is uninstalled. Customers
    still sit in the layers' stages, and the abandoned ones keep the reason they
    were abandoned for: the xml ids of those stages and reasons are set aside
    instead (and taken back by a reinstall); an abandon reason no customer has
    goes with the addon. The indexes the addon adds to crm's table go.
    """
    env.cr.execute(
        "UPDATE ir_model_data SET module = %s WHERE module = 'sales_funnel_method' AND model = 'crm.stage'",
        [KEPT_MODULE],
    )
    env.cr.execute(
        """UPDATE ir_model_data SET module = %s
            WHERE module = 'sales_funnel_method' AND model = 'crm.lost.reason'
              AND res_id IN (
                  SELECT lead.lost_reason_id FROM crm_lead lead
                   WHERE lead.lost_reason_id IS NOT NULL
                     -- not the addon's own (demo) customers: Odoo deletes them next
                     AND NOT EXISTS (
                         SELECT 1 FROM ir_model_data lead_xmlid
                          WHERE lead_xmlid.module = 'sales_funnel_method'
                            AND lead_xmlid.model = 'crm.lead' AND lead_xmlid.res_id = lead.id))""",
        [KEPT_MODULE],
    )
    # the duplicate check's index on a column of crm's own, and the holdings' two
    # (the holdings' also go with the addon's columns they read, as Odoo drops them)
    for index in (COMPANY_NAME_INDEX, HOLDER_INDEX, HOLDINGS_INDEX):
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))


def _load_deck_terms(env):
    """Odoo's own labels that the funnel's screens show, in the deck's words
    (``i18n_extra/``: the pipeline is the 销售漏斗), over the translations Odoo
    installed before the addon. A language installed later loads them itself."""
    importer = TranslationImporter(env.cr, verbose=False)
    for lang, _name in env["res.lang"].get_installed():
        for path in get_po_paths("sales_funnel_method", lang):
            if "i18n_extra" in path:
                importer.load_file(path, lang)
    importer.save(overwrite=True)


def post_init_hook(env):
    """Prepare the funnel on the database it is installed on.

    - Existing customers (those with no move recorded yet) entered their layer
      when their stage last changed.
    - A reinstall takes back the layers' stages and the abandon reasons kept at
      uninstall, with what a manager changed in them; their customers' history, dropped with the addon's
      tables, is back-filled from Odoo's tracking of their stage.
    - A CRM that holds no customer at all gets the funnel as its pipeline:
      Odoo's four default stages, still unused, make way for the eight layers.
      A CRM in use keeps its stages untouched; they are mapped to layers later.
    - Odoo's own labels on the funnel's screens take the deck's words.
    """
    _load_deck_terms(env)
    env.cr.execute(
        """UPDATE crm_lead
              SET funnel_layer_date = COALESCE(date_last_stage_update, create_date, funnel_layer_date)
            WHERE NOT EXISTS (SELECT 1 FROM crm_funnel_move move WHERE move.lead_id = crm_lead.id)"""
    )
    # a reinstall takes back the stages kept at uninstall, whose layer columns
    # were dropped: give them their layer and the deck's ideal state again
    layer_stages = env["crm.stage"].browse(
        env["ir.model.data"]
        .search([("module", "=", "sales_funnel_method"), ("model", "=", "crm.stage")])
        .mapped("res_id")
    )
    if layer_stages and not all(layer_stages.mapped("funnel_layer")):
        convert_file(
            env,
            "sales_funnel_method",
            "data/crm_stage_data.xml",
            None,
            mode="init",
            noupdate=False,
        )
    Lead = env["crm.lead"].with_context(active_test=False)
    kept_stages = _restore_kept_records(env, "crm.stage")
    _restore_kept_records(env, "crm.lost.reason")
    if kept_stages:
        env["crm.funnel.move"]._funnel_backfill(
            Lead.search([("stage_id", "in", kept_stages.ids)])
        )
        # the teams whose customers are back in the layers work the funnel again
        env.flush_all()
        env.cr.execute(
            """UPDATE crm_team SET use_funnel = TRUE
                WHERE NOT use_funnel AND id IN (SELECT team_id FROM crm_funnel_move)"""
        )
        env["crm.team"].invalidate_model(["use_funnel"])
    if Lead.search_count([], limit=1):
        return
    default_stages = env["crm.stage"]
    for xmlid in (
        "crm.stage_lead1",
        "crm.stage_lead2",
        "crm.stage_lead3",
        "crm.stage_lead4",
    ):
        default_stages |= env.ref(xmlid, raise_if_not_found=False) or env["crm.stage"]
    default_stages.filtered(lambda stage: not stage.funnel_layer).unlink()
