from . import crm_funnel_report_holding
from . import crm_funnel_report_move
from . import crm_funnel_report_abandon
from . import crm_funnel_report_contact
from . import crm_funnel_report_overview
from . import crm_funnel_report_target
from . import crm_funnel_report_ranking
from . import crm_funnel_report_support
