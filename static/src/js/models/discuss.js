odoo.define('whatsapp_integration/static/src/js/models/discuss.js', function (require) {
'use strict';

// Open Conversation opens Discuss on the chat's channel, which the user may have joined
// only now (after the page loaded its channels): Discuss then fetches it before opening it.
const { registerInstancePatchModel } = require('mail/static/src/model/model_core.js');

const NAME = 'whatsapp_integration/static/src/js/models/discuss.js';

registerInstancePatchModel('mail.discuss', NAME, {
    openInitThread() {
        const activeId = this.initActiveId;
        if (typeof activeId === 'string' && activeId.startsWith('mail.channel_')) {
            const id = Number(activeId.split('_')[1]);
            const Thread = this.env.models['mail.thread'];
            if (id && !Thread.findFromIdentifyingData({ id, model: 'mail.channel' })) {
                Thread.performRpcChannelInfo({ ids: [id] }).then(() => {
                    const thread = Thread.findFromIdentifyingData({ id, model: 'mail.channel' });
                    if (this.exists() && this.initActiveId === activeId && thread) {
                        // as for the channels Discuss loads at start: a channel opened is pinned
                        if (!thread.isPinned) {
                            thread.pin();
                        }
                        this.openInitThread();
                    }
                });
                return;
            }
        }
        return this._super(...arguments);
    },
});
});
