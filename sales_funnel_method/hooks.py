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
    Lead = env["crm.lead"].with_context(active_test=False)
    if Lead.search_count([], limit=1):
        return
    default_stages = env["crm.stage"]
    for xmlid in ("crm.stage_lead1", "crm.stage_lead2", "crm.stage_lead3", "crm.stage_lead4"):
        default_stages |= env.ref(xmlid, raise_if_not_found=False) or env["crm.stage"]
    default_stages.filtered(lambda stage: not stage.funnel_layer).unlink()
