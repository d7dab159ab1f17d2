# -*- coding: utf-8 -*-
from . import whatsapp_sync_mixin
from . import whatsapp_related_mixin
from . import whatsapp_configuration
from . import whatsapp_credential
from . import whatsapp_contact
from . import whatsapp_group
from . import whatsapp_group_member
from . import whatsapp_message
from . import whatsapp_message_event
from . import whatsapp_message_key
from . import whatsapp_sync_log
from . import whatsapp_provider_call
from . import whatsapp_sync_request
from . import whatsapp_sync_service
from . import whatsapp_sync_account
from . import whatsapp_sync_dispatch
from . import res_partner
