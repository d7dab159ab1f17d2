# -*- coding: utf-8 -*-
from . import test_crons
from . import test_sync
from . import test_access
from . import test_wizard
from . import test_send
from . import test_partners
from . import test_webhooks
from . import test_background
from . import test_group_management
from . import test_resilience
from . import test_credentials
from . import test_isolation
from . import test_poison_rows
from . import test_side_effects
from . import test_event_order
from . import test_queue_job
from . import test_tours
