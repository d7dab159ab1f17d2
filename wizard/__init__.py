# -*- coding: utf-8 -*-
from . import whatsapp_result_mixin
from . import whatsapp_sync_wizard
from . import whatsapp_send_message
from . import whatsapp_template_preview
from . import whatsapp_group_create
from . import whatsapp_group_participants
