odoo.define('whatsapp_integration/static/src/js/models/channel_composer.js', function (require) {
'use strict';

const { registerFieldPatchModel, registerInstancePatchModel } = require('mail/static/src/model/model_core.js');
const { many2one } = require('mail/static/src/model/model_field.js');

const NAME = 'whatsapp_integration/static/src/js/models/channel_composer.js';

// The message a channel's composer answers (Reply on a WhatsApp chat's message).
registerFieldPatchModel('mail.composer', NAME, {
    whatsappReplyTo: many2one('mail.message'),
});

// Odoo 14's composer starts as a note ("Log") everywhere. A channel's composer always posts
// a message (to a WhatsApp chat's channel: a message sent to WhatsApp), so its button says Send.
registerInstancePatchModel('mail.thread', NAME, {
    _created() {
        const result = this._super(...arguments);
        if (this.model === 'mail.channel' && this.composer && this.composer.isLog) {
            this.composer.update({ isLog: false });
        }
        return result;
    },
});
});
