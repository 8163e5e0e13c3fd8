from . import crm_funnel_allocate
from . import crm_funnel_handover_wizard
from . import crm_funnel_contact_log
from . import crm_funnel_workbook
from . import crm_funnel_mapping
from . import crm_funnel_restore
from . import crm_funnel_target_grid
