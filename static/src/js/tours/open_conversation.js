odoo.define('whatsapp_integration.tour_open_conversation', function (require) {
'use strict';

// A WhatsApp user clicks Open Conversation on a contact: Discuss opens on the chat's channel
// with its history. Invite offers only who may read the account: not a colleague without
// WhatsApp rights, but the WhatsApp manager, who is then invited.
// tests/test_browser_tours.py checks the channel's members.
var tour = require('web_tour.tour');

function search(text) {
    // typing in the select2 box: it opens its list and asks for the matches
    $('.modal .select2-input').focus().val(text).trigger('input').trigger('keyup-change');
}

tour.register('whatsapp_open_conversation', {test: true}, [{
    content: 'open the conversation from the contact',
    trigger: '.o_form_view button[name="action_open_conversation"]',
}, {
    content: 'Discuss shows the chat\'s channel, with the customer\'s message',
    trigger: '.o_Discuss .o_ThreadView .o_Message_content:contains("Is my order ready?")',
    run: function () {},
}, {
    content: 'the channel is the active one in the sidebar',
    trigger: '.o_DiscussSidebarItem.o-active:contains("WhatsApp: +34600000001")',
    run: function () {},
}, {
    content: 'invite someone',
    trigger: '.o_widget_Discuss_controlPanelButtonInvite:not(.o_hidden)',
}, {
    content: 'search a colleague without WhatsApp rights',
    trigger: '.modal .o_invite_partner.select2-container',
    in_modal: false,  // looked for in the whole page: the tour's idea of the open dialog may be older
    run: function () {
        search('Nosy');
    },
}, {
    content: 'nobody is offered',
    trigger: '.select2-drop-active .select2-no-results',
    in_modal: false,  // select2's list is outside the dialog
    run: function () {
        if ($('.select2-drop-active .select2-result-label:contains("Nosy")').length) {
            throw new Error('a user without WhatsApp rights is offered');
        }
        // then search the WhatsApp manager (in this step: the tour checks its next step on a change of the page)
        search('Maria');
    },
}, {
    content: 'she is offered: pick her',
    trigger: '.select2-drop-active .select2-result-label:contains("Maria Manager")',
    in_modal: false,
    run: function () {
        // as a click on the match does: select2 adds the offer's data to its choices
        var offer = this.$anchor.closest('.select2-result-selectable').data('select2-data');
        $('.modal input.o_invite_partner').select2('data', [offer]).select2('close');
    },
}, {
    content: 'invite her',
    trigger: '.modal .select2-search-choice:contains("Maria Manager")',
    in_modal: false,
    run: function () {
        $('.modal-footer .btn-primary:contains("Invite")').click();
    },
}, {
    content: 'the invitation is confirmed',
    trigger: '.o_notification:contains("Maria Manager")',
    run: function () {},
}]);
});
