odoo.define('whatsapp_integration/static/src/js/widgets/discuss_invite_partner_dialog.js', function (require) {
'use strict';

// Discuss's Invite on a WhatsApp chat's channel offers only the people who may read the
// chat's account (the server refuses anyone else whatever the client sends).
const Dialog = require('web.Dialog');
const PartnerInviteDialog = require('mail/static/src/widgets/discuss_invite_partner_dialog/discuss_invite_partner_dialog.js');

PartnerInviteDialog.include({
    init(parent, { activeThreadLocalId, messagingEnv }) {
        this._super(...arguments);
        const channel = messagingEnv.models['mail.thread'].get(activeThreadLocalId);
        this.whatsappChat = Boolean(channel && channel.isWhatsappChat);
    },

    start() {
        if (!this.whatsappChat) {
            return this._super(...arguments);
        }
        this.$input = this.$('.o_input');
        this.$input.select2({
            width: '100%',
            allowClear: true,
            multiple: true,
            query: query => {
                this._rpc({
                    model: 'mail.channel',
                    method: 'whatsapp_invite_search',
                    args: [[this.channelId], query.term],
                    kwargs: { limit: 20 },
                }, { shadow: true }).then(partners => {
                    query.callback({
                        results: partners.map(partner => ({ id: partner.id, text: partner.name })),
                    });
                });
            },
        });
        return Dialog.prototype.start.apply(this, arguments);
    },
});
});
