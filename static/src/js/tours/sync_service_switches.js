odoo.define('whatsapp_integration.tour_sync_service_switches', function (require) {
'use strict';

// Toggle each Scheduled Syncs switch of the Sync Service form, as a manager does, and
// check after each save that the others kept their state (the form reloads them from
// the crons). tests/test_tours.py checks the crons themselves at the end.
var tour = require('web_tour.tour');
var utils = require('whatsapp_integration.tour_utils');

function toggle(name, on) {
    var checked = on ? ':checked' : ':not(:checked)';
    return [{
        content: 'switch ' + name + (on ? ' on' : ' off'),
        trigger: '.o_form_view div[name="' + name + '"] label',
    }, {
        content: name + ' is ' + (on ? 'on' : 'off') + ' once saved',
        trigger: '.o_form_view.o_form_readonly div[name="' + name + '"] input' + checked,
        run: function () {},
    }];
}

function expect(states) {
    return [{
        content: 'the switches show ' + JSON.stringify(states),
        trigger: '.o_form_view.o_form_readonly div[name="cron_daily_active"] input',
        run: function () {
            Object.keys(states).forEach(function (name) {
                var checked = $('.o_form_view div[name="' + name + '"] input').prop('checked');
                if (checked !== states[name]) {
                    throw new Error('switch ' + name + ' is ' + checked + ', expected ' + states[name]);
                }
            });
        },
    }];
}

tour.register('whatsapp_sync_service_switches', {test: true}, [].concat(
    expect({cron_hourly_active: true, cron_frequent_active: false, cron_daily_active: false}),
    toggle('cron_daily_active', true),
    expect({cron_hourly_active: true, cron_frequent_active: false, cron_daily_active: true}),
    toggle('cron_frequent_active', true),
    expect({cron_hourly_active: true, cron_frequent_active: true, cron_daily_active: true}),
    toggle('cron_hourly_active', false),
    expect({cron_hourly_active: false, cron_frequent_active: true, cron_daily_active: true}),
    toggle('cron_frequent_active', false),
    expect({cron_hourly_active: false, cron_frequent_active: false, cron_daily_active: true}),
    utils.waitThenReload('reload: the switches show the crons as saved', function () {
        return $('.o_form_view.o_form_readonly').length > 0;
    }),
    [{
        content: 'after the reload',
        trigger: utils.afterReload('.o_form_view.o_form_readonly div[name="cron_daily_active"] input:checked'),
        run: function () {},
    }],
    expect({cron_hourly_active: false, cron_frequent_active: false, cron_daily_active: true})
));
});
