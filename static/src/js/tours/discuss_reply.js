odoo.define('whatsapp_integration.tour_discuss_reply', function (require) {
'use strict';

// A WhatsApp chat in Discuss: open its channel from the sidebar, read the customer's
// message, answer it from the composer, then reply to that message (a quoted reply).
// tests/test_tours.py checks that the fake provider received exactly those sends.
var tour = require('web_tour.tour');
var utils = require('whatsapp_integration.tour_utils');

function composerEmpty() {
    return $('.o_Discuss_thread .o_ComposerTextInput_textarea').val() === '';
}

tour.register('whatsapp_discuss_reply', {test: true}, [{
    content: 'open the WhatsApp channel from the Discuss sidebar',
    trigger: '.o_DiscussSidebarItem:contains("WhatsApp: Ana Traveller")',
}, {
    content: 'the customer\'s message is in the channel',
    trigger: '.o_Discuss_thread .o_Message_content:contains("Photo of the damaged suitcase")',
    run: function () {},
}, {
    content: 'write the answer',
    trigger: '.o_Discuss_thread .o_ComposerTextInput_textarea',
    run: 'text We are sorry! A replacement leaves today.',
}, {
    content: 'send it (the button says Send: a channel\'s composer posts a message, not a note)',
    trigger: '.o_Discuss_thread .o_Composer_buttonSend:contains("Send")',
}].concat(
    // Discuss shows a channel's new message when the bus announces it, at commit; a test
    // transaction never commits, so the tour waits for the post to finish and reloads.
    utils.waitThenReload('wait for the post to finish (the composer empties)', composerEmpty),
[{
    content: 'open the channel again, on the reloaded page',
    trigger: utils.afterReload('.o_DiscussSidebarItem:contains("WhatsApp: Ana Traveller")'),
}, {
    content: 'the answer is in the channel',
    trigger: '.o_Discuss_thread .o_Message_content:contains("A replacement leaves today")',
    run: function () {},
}, {
    content: 'no refusal note came back',
    trigger: '.o_Discuss_thread',
    run: function () {
        if ($('.o_Message_content:contains("Not sent to WhatsApp")').length) {
            throw new Error('the send was refused: ' + $('.o_Message_content:contains("Not sent")').text());
        }
    },
}, {
    content: 'reply to the customer\'s photo',
    trigger: '.o_Message:has(.o_Message_content:contains("Photo of the damaged suitcase")) .o_whatsapp_reply',
}, {
    content: 'the composer says what it answers',
    trigger: '.o_Discuss_thread .o_whatsapp_replying:contains("Photo of the damaged suitcase")',
    run: function () {},
}, {
    content: 'write the reply',
    trigger: '.o_Discuss_thread .o_ComposerTextInput_textarea',
    run: 'text Is the handle broken too?',
}, {
    content: 'send the reply',
    trigger: '.o_Discuss_thread .o_Composer_buttonSend',
}],
    utils.waitThenReload('wait for the reply to be posted (the composer empties, the reply banner goes)',
        function () { return composerEmpty() && !$('.o_whatsapp_replying').length; }),
[{
    content: 'open the channel once more, on the reloaded page',
    trigger: utils.afterReload('.o_DiscussSidebarItem:contains("WhatsApp: Ana Traveller")'),
}, {
    content: 'the reply shows the message it quotes above its text',
    trigger: '.o_Message_content:contains("Is the handle broken too?") .o_whatsapp_quote:contains("Photo of the damaged suitcase")',
    run: function () {},
}]));
});
