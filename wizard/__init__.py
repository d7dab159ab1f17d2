# -*- coding: utf-8 -*-
from . import whatsapp_sync_wizard
