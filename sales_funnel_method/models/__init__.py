from . import crm_stage
from . import crm_funnel_move
from . import crm_lead
