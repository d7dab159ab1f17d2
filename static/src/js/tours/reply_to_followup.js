odoo.define('whatsapp_integration.tour_reply_to_followup', function (require) {
'use strict';

// The customer wrote a text and right after it sent a photo: Discuss shows the photo without
// a header of its own (same sender). It has a Reply arrow all the same; the reply quotes it.
// tests/test_browser_tours.py checks what the fake provider received.
var tour = require('web_tour.tour');
var utils = require('whatsapp_integration.tour_utils');

tour.register('whatsapp_reply_to_followup', {test: true}, [{
    content: 'open the WhatsApp channel from the Discuss sidebar',
    trigger: '.o_DiscussSidebarItem:contains("WhatsApp: Ana Traveller")',
}, {
    content: 'the photo follows the text without a header of its own',
    trigger: '.o_Message.o-squashed .o_Message_content:contains("And here is the photo")',
    run: function () {},
}, {
    content: 'point at the photo (its commands show on hover or click)',
    trigger: '.o_Message.o-squashed .o_Message_content:contains("And here is the photo")',
}, {
    content: 'reply to the photo',
    trigger: '.o_Message.o-squashed:has(.o_Message_content:contains("And here is the photo")) .o_whatsapp_reply',
}, {
    content: 'the composer says what it answers',
    trigger: '.o_Discuss_thread .o_whatsapp_replying:contains("And here is the photo")',
    run: function () {},
}, {
    content: 'write the reply',
    trigger: '.o_Discuss_thread .o_ComposerTextInput_textarea',
    run: 'text Thanks, we see the crack.',
}, {
    content: 'send the reply',
    trigger: '.o_Discuss_thread .o_Composer_buttonSend',
}].concat(
    utils.waitThenReload('wait for the reply to be posted',
        function () { return $('.o_Discuss_thread .o_ComposerTextInput_textarea').val() === '' &&
                             !$('.o_whatsapp_replying').length; }),
[{
    content: 'open the channel again, on the reloaded page',
    trigger: utils.afterReload('.o_DiscussSidebarItem:contains("WhatsApp: Ana Traveller")'),
}, {
    content: 'the reply shows the photo it answers',
    trigger: '.o_Message_content:contains("we see the crack") .o_whatsapp_quote:contains("And here is the photo")',
    run: function () {},
}]));
});
