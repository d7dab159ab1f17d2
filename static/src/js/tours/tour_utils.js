odoo.define('whatsapp_integration.tour_utils', function (require) {
'use strict';

// Steps the module's tours share: reloading the page safely.

var waits = 0;

/**
 * Steps that wait until ``done()`` holds, then reload the page. The tour manager may move
 * on to the next step before the old page unloads: the old page is marked, and the step
 * after these must use ``afterReload(trigger)``, which only matches on the reloaded page.
 */
function waitThenReload(content, done) {
    var ready = 'o_whatsapp_tour_ready_' + (++waits);
    return [{
        content: content,
        trigger: 'body',
        run: function () {
            var check = function () {
                if (done()) {
                    $('body').addClass(ready);
                } else {
                    setTimeout(check, 100);
                }
            };
            check();
        },
    }, {
        content: 'reload the page',
        trigger: 'body.' + ready,
        run: function () {
            $('body').addClass('o_whatsapp_tour_reloading');
            window.location.reload();
        },
    }];
}

function afterReload(trigger) {
    return 'body:not(.o_whatsapp_tour_reloading) ' + trigger;
}

return {waitThenReload: waitThenReload, afterReload: afterReload};
});
