# -*- coding: utf-8 -*-
{
    'name': 'WhatsApp Integration',
    'version': '14.0.1.3.0',
    'summary': 'Sync WhatsApp contacts, groups, members and messages from WHAPI Cloud or Wassenger',
    'description': """
Keeps Odoo in step with one or more WhatsApp accounts served by the WHAPI Cloud
or Wassenger HTTP APIs: contacts, groups, group members and messages, on a
schedule, on demand (Sync Now, Sync Wizard) or from ``odoo shell``.
""",
    'category': 'Discuss',
    'author': 'whatsapp_integration developers',
    'license': 'LGPL-3',
    'depends': ['base', 'mail', 'contacts', 'phone_validation'],
    'external_dependencies': {
        'python': ['requests', 'phonenumbers'],
    },
    'data': [
        'security/whatsapp_security.xml',
        'security/ir.model.access.csv',
        'data/whatsapp_sync_service_data.xml',
        'data/whatsapp_message_data.xml',
        'wizard/whatsapp_send_message_views.xml',
        'wizard/whatsapp_group_manage_views.xml',
        'views/whatsapp_configuration_views.xml',
        'views/whatsapp_contact_views.xml',
        'views/whatsapp_group_views.xml',
        'views/whatsapp_group_member_views.xml',
        'views/whatsapp_message_views.xml',
        'views/whatsapp_sync_log_views.xml',
        'views/whatsapp_sync_service_views.xml',
        'views/whatsapp_template_views.xml',
        'views/whatsapp_outbox_views.xml',
        'wizard/whatsapp_sync_wizard_views.xml',
        'views/res_partner_views.xml',
        'views/whatsapp_menus.xml',
        'views/whatsapp_assets.xml',
    ],
    'qweb': [
        'static/src/xml/discuss_reply.xml',
    ],
    'post_init_hook': 'post_init_hook',
    'uninstall_hook': 'uninstall_hook',
    'application': True,
    'installable': True,
}
