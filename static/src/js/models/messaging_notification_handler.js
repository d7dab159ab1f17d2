odoo.define('whatsapp_integration/static/src/js/models/messaging_notification_handler.js', function (require) {
'use strict';

// The addon opens a channel for every new WhatsApp chat of an account its users share:
// no "You have been invited to" pop-up for those (one every few seconds on a busy line).
const { registerInstancePatchModel } = require('mail/static/src/model/model_core.js');

registerInstancePatchModel('mail.messaging_notification_handler',
    'whatsapp_integration/static/src/js/models/messaging_notification_handler.js', {
    _handleNotificationPartnerChannel(data) {
        if (data.whatsapp_chat && data.info !== 'creation') {
            // Odoo 14 shows the pop-up for any channel header that is not a creation
            data = Object.assign({}, data, { info: 'creation' });
        }
        return this._super(data);
    },
});
});
