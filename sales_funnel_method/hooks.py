from odoo.tools import convert_file

# where the layers' stages keep their xml ids while the addon is not installed
KEPT_MODULE = "__sales_funnel_method_kept__"


def pre_init_hook(env):
    """Reinstalling: the layers' stages kept at uninstall become the addon's again
    (their data is noupdate: nothing a manager changed is overwritten)."""
    env.cr.execute(
        "UPDATE ir_model_data SET module = 'sales_funnel_method' WHERE module = %s AND model = 'crm.stage'",
        [KEPT_MODULE],
    )


def uninstall_hook(env):
    """The layers' stages hold customers: they stay, as plain CRM stages.

    Odoo deletes the records a module created when it is uninstalled; customers
    still sit in these stages, so their xml ids are set aside instead (and taken
    back by a reinstall).
    """
    env.cr.execute(
        "UPDATE ir_model_data SET module = %s WHERE module = 'sales_funnel_method' AND model = 'crm.stage'",
        [KEPT_MODULE],
    )


def post_init_hook(env):
    """Prepare the funnel on the database it is installed on.

    - Existing customers (those with no move recorded yet) entered their layer
      when their stage last changed.
    - A CRM that holds no customer at all gets the funnel as its pipeline:
      Odoo's four default stages, still unused, make way for the eight layers.
      A CRM in use keeps its stages untouched; they are mapped to layers later.
    """
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
