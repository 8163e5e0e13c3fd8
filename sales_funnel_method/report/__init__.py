from . import crm_funnel_report_holding
