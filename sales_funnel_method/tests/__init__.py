from . import test_funnel_layers
from . import test_funnel_grade
from . import test_funnel_moves
from . import test_funnel_security
from . import test_funnel_performance
from . import test_funnel_ui
from . import test_funnel_i18n
from . import test_funnel_allocation
