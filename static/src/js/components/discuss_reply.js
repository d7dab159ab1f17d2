odoo.define('whatsapp_integration/static/src/js/components/discuss_reply.js', function (require) {
'use strict';

// Reply on a message of a WhatsApp chat's channel: the composer shows what it answers
// (with a way to cancel) and its post is sent to WhatsApp quoting that message.
const components = {
    Composer: require('mail/static/src/components/composer/composer.js'),
    Message: require('mail/static/src/components/message/message.js'),
};
const { patch } = require('web.utils');

const NAME = 'whatsapp_integration/static/src/js/components/discuss_reply.js';
const SNIPPET_LENGTH = 80;

patch(components.Message, NAME, {
    _onClickWhatsappReply(ev) {
        ev.stopPropagation();
        const composer = this.message.originThread && this.message.originThread.composer;
        if (composer) {
            composer.update({ whatsappReplyTo: [['link', this.message]] });
            composer.focus();
        }
    },
});

patch(components.Composer, NAME, {
    whatsappReplyAuthor() {
        const answered = this.composer.whatsappReplyTo;
        return (answered.author && answered.author.nameOrDisplayName) || answered.email_from || '';
    },

    whatsappReplySnippet() {
        // its own text, without the message it quotes in turn
        const $body = $('<div/>').html(this.composer.whatsappReplyTo.body || '');
        $body.find('.o_whatsapp_quote').remove();
        const text = $body.text().trim();
        return text.length > SNIPPET_LENGTH ? text.slice(0, SNIPPET_LENGTH) + '\u2026' : text;
    },

    _onClickWhatsappReplyCancel(ev) {
        ev.stopPropagation();
        this.composer.update({ whatsappReplyTo: [['unlink']] });
    },
});
});
