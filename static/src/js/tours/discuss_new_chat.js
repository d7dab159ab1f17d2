odoo.define('whatsapp_integration.tour_discuss_new_chat', function (require) {
'use strict';

// A customer writes in a new chat while a WhatsApp user has Discuss open: the chat's
// channel appears in the sidebar, and no "You have been invited to" pop-up comes with it.
//
// Odoo 14 refuses longpolling in test mode, so the tour hands Discuss the two bus
// notifications the server sends in that case, built by the server itself: the new
// message of a channel the page does not know yet (Discuss then fetches and pins the
// channel), and the channel header that pinning it sends back to the user.
const tour = require('web_tour.tour');

async function deliverNewChat() {
    const query = new URLSearchParams(window.location.search);
    const headers = { 'Content-Type': 'application/json' };
    headers[query.get('wa_header')] = query.get('wa_secret');
    // the provider calls the account's webhook (what it posts is in the page's query)
    const answer = await fetch(query.get('wa_hook'), { method: 'POST', headers: headers, body: query.get('wa_body') });
    if (!answer.ok) {
        console.error('tour failed: the webhook answered ' + answer.status);
        return;
    }
    const env = owl.Component.env;
    const rpc = env.services.rpc;
    const channels = await rpc({ model: 'mail.channel', method: 'search_read',
        domain: [['whatsapp_chat_id', '!=', false]], fields: ['id'] });
    const channelId = channels[0].id;
    const messages = await rpc({ model: 'mail.message', method: 'search_read',
        domain: [['model', '=', 'mail.channel'], ['res_id', '=', channelId]], fields: ['id'], limit: 1 });
    const formatted = await rpc({ model: 'mail.message', method: 'message_format', args: [[messages[0].id]] });
    const handler = env.messaging.notificationHandler;
    await handler._handleNotifications([[['db', 'mail.channel', channelId], formatted[0]]]);
    const header = await rpc({ model: 'mail.channel', method: 'channel_info', args: [[channelId]] });
    await handler._handleNotifications([[['db', 'res.partner', env.messaging.currentPartner.id], header[0]]]);
}

tour.register('whatsapp_discuss_new_chat', { test: true }, [{
    content: 'Discuss is open; a customer writes in a new chat',
    trigger: '.o_DiscussSidebar',
    run: function () {
        deliverNewChat();
    },
}, {
    content: "the new chat's channel arrives in the sidebar",
    trigger: '.o_DiscussSidebarItem:contains("WhatsApp: ")',
    run: function () {
        // a pop-up comes with the channel's header: look again a moment later
        setTimeout(function () {
            if ($('.o_notification:contains("invited")').length) {
                console.error('tour failed: an invitation pop-up for the WhatsApp chat\'s channel');
            } else {
                $('body').addClass('o_whatsapp_no_invitation_checked');
            }
        }, 2000);
    },
}, {
    content: 'no invitation pop-up',
    trigger: 'body.o_whatsapp_no_invitation_checked',
    run: function () {},
}]);
});
