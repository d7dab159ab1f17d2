odoo.define('whatsapp_integration/static/src/js/models/thread.js', function (require) {
'use strict';

// A WhatsApp chat's channel (channel_info says so): its messages can be answered with a quote.
const { registerClassPatchModel, registerFieldPatchModel } = require('mail/static/src/model/model_core.js');
const { attr } = require('mail/static/src/model/model_field.js');

const NAME = 'whatsapp_integration/static/src/js/models/thread.js';

registerFieldPatchModel('mail.thread', NAME, {
    isWhatsappChat: attr({ default: false }),
});

registerClassPatchModel('mail.thread', NAME, {
    convertData(data) {
        const data2 = this._super(data);
        if ('whatsapp_chat' in data) {
            data2.isWhatsappChat = data.whatsapp_chat;
        }
        return data2;
    },

    /**
     * A post from the composer of a channel that is answering a message carries that
     * message as its parent: the server sends it to WhatsApp as a quoted reply.
     */
    async performRpcMessagePost({ postData, threadId, threadModel }) {
        if (threadModel === 'mail.channel') {
            const thread = this.env.models['mail.thread'].findFromIdentifyingData({ id: threadId, model: threadModel });
            const answered = thread && thread.composer && thread.composer.whatsappReplyTo;
            if (answered) {
                postData = Object.assign({}, postData, { parent_id: answered.id });
                thread.composer.update({ whatsappReplyTo: [['unlink']] });
            }
        }
        return this._super({ postData, threadId, threadModel });
    },
});
});
