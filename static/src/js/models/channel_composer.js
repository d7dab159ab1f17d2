odoo.define('whatsapp_integration/static/src/js/models/channel_composer.js', function (require) {
'use strict';

// Odoo 14's composer starts as a note ("Log") everywhere. A channel's composer always posts
// a message (to a WhatsApp chat's channel: a message sent to WhatsApp), so its button says Send.
const { registerInstancePatchModel } = require('mail/static/src/model/model_core.js');

registerInstancePatchModel('mail.thread', 'whatsapp_integration/static/src/js/models/channel_composer.js', {
    _created() {
        const result = this._super(...arguments);
        if (this.model === 'mail.channel' && this.composer && this.composer.isLog) {
            this.composer.update({ isLog: false });
        }
        return result;
    },
});
});
