#!/usr/bin/env bash
# Runs the addon's Odoo tests in a real Odoo 14.0, when one is on PATH as `odoo`
# (the way Odoo's own packages install it). Starts a throwaway PostgreSQL
# cluster as the `postgres` OS user, installs the addon with --test-enable in a
# fresh database, upgrades it, uninstalls it, and removes the cluster.
# Exit status: 0 all passed, 1 a test failed or an error was logged,
# 3 no Odoo 14.0 here (nothing run).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
module=whatsapp_integration

. "$repo/tools/odoo_cluster.sh"
find_odoo
found=$?
if [ $found -ne 0 ]; then
    echo "$odoo_missing: Odoo tests NOT run."
    echo "To run them, put an Odoo 14.0 on PATH as 'odoo': on this project's machines"
    echo "'../shared/odoo14/install.sh' does it in a minute; elsewhere install Odoo 14.0 from"
    echo "source (README, Development) or run the tests in the official odoo:14.0 container."
    exit $found
fi
ensure_addon_requirements "$repo" || exit 1
echo "Odoo tests: $odoo_version ($odoo_bin), PostgreSQL from $pg_bin"

work=$(mktemp -d /tmp/whatsapp-odoo-tests.XXXXXX)
cleanup() {
    # WHATSAPP_TEST_LOGS=<folder> keeps the Odoo logs of the run there, to read a failure whole
    if [ -n "${WHATSAPP_TEST_LOGS:-}" ]; then mkdir -p "$WHATSAPP_TEST_LOGS" && cp "$work"/*.log "$WHATSAPP_TEST_LOGS"/ 2>/dev/null; fi
    stop_cluster "$work"
    rm -rf "$work"
}
trap cleanup EXIT
start_cluster "$work" || exit 1
ln -s "$repo" "$work/addons/$module"
http_port=$(free_port)

odoo_args=(--addons-path="$odoo_addons,$work/addons" "${db_args[@]}" --http-port="$http_port" --http-interface=127.0.0.1
           --without-demo=all --log-level=info -d whatsapp_test)

failed=0
run_step() {  # name, log file, odoo args...
    local name=$1 log=$2; shift 2
    "$odoo_bin" "${odoo_args[@]}" --stop-after-init "$@" >"$log" 2>&1
    local status=$?
    # ERROR/CRITICAL of any module, and warnings of this module's loggers or files
    # (bad view, duplicate label, deprecated call, ...), are problems: tools/log_problems.py.
    local problems
    problems=$("$odoo_python" "$repo/tools/log_problems.py" "$log" "$module" "$repo/")
    if [ $status -ne 0 ] || [ -n "$problems" ]; then
        echo "FAILED: $name (exit $status)"
        if [ -n "$problems" ]; then echo "$problems" | head -n 40; else tail -n 40 "$log"; fi
        grep -E '^(FAIL|ERROR): |^(AssertionError|Traceback)' -A 12 "$log" | head -n 120
        failed=1
    else
        echo "ok: $name"
    fi
}

# ODOO_TEST_TAGS narrows the run while developing, e.g. "/$module:TestWebhooks" (Odoo's
# --test-tags syntax); the default, and CI, run every test of the module.
run_step "install with tests" "$work/install.log" -i "$module" --test-enable --test-tags "${ODOO_TEST_TAGS:-/$module}"
# Odoo 14 logs "Starting <Class>.<test> ..." for each test and "FAIL: " / "ERROR: " for each failure.
test_logger="odoo\.addons\.$module\.tests\.[a-z_]+: "
ran=$(grep -cE "${test_logger}Starting " "$work/install.log")
test_failures=$(grep -cE "${test_logger}(FAIL|ERROR): " "$work/install.log")
grep -E "odoo.tests.runner|post-tests in" "$work/install.log" | sed -E 's/^.* (odoo\.[a-z.]+: )/  /'
if [ "$ran" -eq 0 ]; then
    echo "FAILED: no Odoo test ran"
    failed=1
fi

# WHATSAPP_TESTS_ONLY=1 stops here (a developer's quick loop with ODOO_TEST_TAGS); CI never sets it.
if [ -n "${WHATSAPP_TESTS_ONLY:-}" ]; then
    echo "odoo: $((ran - test_failures)) passed, $test_failures failed"
    exit $failed
fi

# Odoo's own mail suite (test_mail, 274 tests) in two databases that differ only by this
# addon: one with mail, contacts and phone_validation, a copy of it where the addon is
# installed, then test_mail installed with its tests in each. tools/mail_suite_check.py
# compares them per test: a test that passes without the addon and fails with it fails the
# run; failures of both runs are Odoo's own and are listed once.
# WHATSAPP_SKIP_MAIL_SUITE=1 skips it (a quicker local run); CI never sets it.
mail_suite() {
    local without=mail_suite_without with=mail_suite_with
    local started=$SECONDS
    local dir found=
    for dir in ${odoo_addons//,/ }; do [ -f "$dir/test_mail/__manifest__.py" ] && found=1; done
    if [ -z "$found" ]; then
        echo "FAILED: mail suite: Odoo's test_mail module is not in $odoo_addons (an older Odoo bundle:"
        echo "        reinstall it with ../shared/odoo14/install.sh, which ships test_mail and its tests)"
        failed=1
        return
    fi
    if ! "$odoo_bin" "${odoo_args[@]}" -d "$without" --stop-after-init -i mail,contacts,phone_validation \
            >"$work/mail_suite_base.log" 2>&1; then
        echo "FAILED: mail suite: installing mail, contacts and phone_validation"
        tail -n 30 "$work/mail_suite_base.log"
        failed=1
        return
    fi
    # the same database, then the addon in it (its code is in the registry when test_mail runs)
    if ! "$pg_bin/createdb" -h "$work/sock" -p "$pg_port" -U odoo -T "$without" "$with" >"$work/mail_suite_copy.log" 2>&1; then
        echo "FAILED: mail suite: copying the database"
        cat "$work/mail_suite_copy.log"
        failed=1
        return
    fi
    [ -d "$work/data/filestore/$without" ] && cp -a "$work/data/filestore/$without" "$work/data/filestore/$with"
    run_step "mail suite: install $module before test_mail" "$work/mail_suite_addon.log" -d "$with" -i "$module"
    # test_mail's own failures are compared, not filtered: Odoo exits 1 when any test fails.
    # One run after the other: on a 2-core machine both at once saved nothing (measured:
    # 152 s one after the other, 166 s at once).
    "$odoo_bin" "${odoo_args[@]}" -d "$without" --stop-after-init -i test_mail --test-enable --test-tags /test_mail \
        >"$work/mail_suite_without.log" 2>&1
    "$odoo_bin" "${odoo_args[@]}" -d "$with" --stop-after-init -i test_mail --test-enable --test-tags /test_mail \
        >"$work/mail_suite_with.log" 2>&1
    local compared status
    compared=$("$odoo_python" "$repo/tools/mail_suite_check.py" "$work/mail_suite_without.log" \
        "$work/mail_suite_with.log" "$module" "$repo/")
    status=$?
    if [ $status -eq 0 ]; then
        echo "ok: Odoo's mail suite (test_mail) does the same with $module as without it ($((SECONDS - started)) s)"
    else
        echo "FAILED: Odoo's mail suite (test_mail) does worse with $module than without it (tools/mail_suite_check.py)"
        failed=1
    fi
    echo "$compared" | sed 's/^/  /'
}
if [ -z "${WHATSAPP_SKIP_MAIL_SUITE:-}" ]; then
    mail_suite
fi

# The committed translation template must list every term of the module
# (Odoo 14 exports only to .po/.csv/.tgz names; without --language it writes the template).
# Two syncs of one account at once, from two processes, through each pair of paths,
# and webhook deliveries of the same messages beside each (Discuss on).
if "$odoo_python" "$repo/tools/concurrency_check.py" "${odoo_args[@]}" --log-level=warn >"$work/concurrency.log" 2>&1; then
    echo "ok: $(tail -n 1 "$work/concurrency.log")"
else
    echo "FAILED: concurrent syncs (tools/concurrency_check.py)"
    grep -vE '^(ok: )' "$work/concurrency.log" | tail -n 60
    failed=1
fi

"$odoo_bin" "${odoo_args[@]}" --stop-after-init --i18n-export="$work/$module.po" --modules="$module" \
    >"$work/pot.log" 2>&1
if [ -s "$work/$module.po" ] && "$odoo_python" "$repo/tools/check_pot.py" "$work/$module.po" "$repo/i18n/$module.pot"; then
    echo "ok: i18n/$module.pot lists every term"
else
    echo "FAILED: i18n/$module.pot is missing terms: regenerate it with tools/export_pot.sh"
    [ -s "$work/$module.po" ] || tail -n 20 "$work/pot.log"
    failed=1
fi

run_step "upgrade (-u $module)" "$work/upgrade.log" -u "$module"

# Upgrade from the last release on main: a database the release installed and filled
# (tools/upgrade_check.py seed) takes today's code with -u and keeps what it held (check).
# WHATSAPP_UPGRADE_FROM names another commit; move the default when a release lands.
upgrade_from=${WHATSAPP_UPGRADE_FROM:-3f2f6009e9a0187fb9087b129f1b0eab2b7fa6fd}
release_shell() {  # addons path, function of tools/upgrade_check.py, log
    echo "import runpy; runpy.run_path('$repo/tools/upgrade_check.py')['$2'](env)" | "$odoo_bin" shell \
        "${odoo_args[@]}" --addons-path="$1" -d whatsapp_release --no-http >"$3" 2>&1
}
if [ ! -e "$repo/.git" ]; then
    echo "skipped: upgrade from release ${upgrade_from:0:12} (no git history here: run from a clone)"
elif ! git -C "$repo" cat-file -e "$upgrade_from^{commit}" 2>"$work/release_git.log"; then
    echo "FAILED: upgrade from release: git cannot read commit $upgrade_from here (a shallow clone, or:)"
    cat "$work/release_git.log"
    failed=1
elif ! { mkdir -p "$work/release/$module" && git -C "$repo" archive "$upgrade_from" | tar -x -C "$work/release/$module"; }; then
    echo "FAILED: upgrade from release: cannot extract commit $upgrade_from"
    failed=1
else
    if "$odoo_bin" "${odoo_args[@]}" --addons-path="$odoo_addons,$work/release" -d whatsapp_release \
            --stop-after-init -i "$module" >"$work/release_install.log" 2>&1 \
            && release_shell "$odoo_addons,$work/release" seed "$work/release_seed.log" \
            && grep -q 'UPGRADE_SEED ok' "$work/release_seed.log"; then
        run_step "upgrade from release ${upgrade_from:0:12} (-u with today's code)" "$work/release_upgrade.log" \
            -d whatsapp_release -u "$module"
        if release_shell "$odoo_addons,$work/addons" check "$work/release_check.log" \
                && grep -q 'UPGRADE_CHECK ok' "$work/release_check.log"; then
            echo "ok: the release's account, token, contacts, groups and messages survive the upgrade"
        else
            echo "FAILED: data after the upgrade from release ${upgrade_from:0:12} (tools/upgrade_check.py check)"
            tail -n 30 "$work/release_check.log"
            failed=1
        fi
    else
        echo "FAILED: installing release ${upgrade_from:0:12} with data"
        tail -n 30 "$work/release_install.log" "$work/release_seed.log" 2>/dev/null
        failed=1
    fi
fi

# Uninstall must remove everything the module created, its three crons included.
uninstall_script="
template = env['whatsapp.template'].create({'name': 'Uninstall check', 'recipient_field': 'mobile',
    'model_id': env['ir.model']._get('res.partner').id, 'body': 'Hi'})
template.action_create_sidebar_action()
env.cr.commit()
module = env['ir.module.module'].search([('name', '=', '$module')])
module.button_immediate_uninstall()
env.cr.execute(\"SELECT count(*) FROM ir_cron c JOIN ir_act_server a ON a.id = c.ir_actions_server_id WHERE a.name LIKE 'WhatsApp%'\")
left = env.cr.fetchone()[0]
print('WHATSAPP_CRONS_LEFT=%d' % left)
env.cr.execute(\"SELECT count(*) FROM ir_act_window WHERE res_model LIKE 'whatsapp.%'\")
print('WHATSAPP_ACTIONS_LEFT=%d' % env.cr.fetchone()[0])
"
echo "$uninstall_script" | "$odoo_bin" shell "${odoo_args[@]}" --no-http >"$work/uninstall.log" 2>&1
if grep -q 'WHATSAPP_CRONS_LEFT=0' "$work/uninstall.log" && grep -q 'WHATSAPP_ACTIONS_LEFT=0' "$work/uninstall.log" \
        && ! grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$work/uninstall.log"; then
    echo "ok: uninstall removes the module, its crons and the templates' Action menu entries"
else
    echo "FAILED: uninstall"
    tail -n 30 "$work/uninstall.log"
    failed=1
fi

# The same tests with OCA queue_job installed (syncs become one job per account),
# the concurrency check with the queue_job path, and a real job runner end to end.
# WHATSAPP_SKIP_QUEUE_JOB=1 skips this pass (a quicker local run); CI never sets it.
if [ -z "${WHATSAPP_SKIP_QUEUE_JOB:-}" ]; then
    if add_queue_job "$work/addons"; then
        qj_args=(-d whatsapp_test_qj)
        run_step "install with queue_job and tests" "$work/queue_job.log" "${qj_args[@]}" \
            -i queue_job,"$module" --test-enable --test-tags "${ODOO_TEST_TAGS:-/$module}"
        qj_ran=$(grep -cE "${test_logger}Starting " "$work/queue_job.log")
        qj_failures=$(grep -cE "${test_logger}(FAIL|ERROR): " "$work/queue_job.log")
        ran=$((ran + qj_ran))
        test_failures=$((test_failures + qj_failures))
        grep -E "odoo.tests.runner|post-tests in" "$work/queue_job.log" | sed -E 's/^.* (odoo\.[a-z.]+: )/  /'
        if "$odoo_python" "$repo/tools/concurrency_check.py" "${odoo_args[@]}" "${qj_args[@]}" --log-level=warn \
                >"$work/concurrency_qj.log" 2>&1; then
            echo "ok: with queue_job: $(tail -n 1 "$work/concurrency_qj.log")"
        else
            echo "FAILED: concurrent syncs with queue_job (tools/concurrency_check.py)"
            grep -vE '^(ok: )' "$work/concurrency_qj.log" | tail -n 60
            failed=1
        fi
        if "$odoo_python" "$repo/tools/queue_job_check.py" -- "${odoo_args[@]}" "${qj_args[@]}" --log-level=warn \
                >"$work/queue_job_runner.log" 2>&1; then
            echo "ok: $(grep '^queue_job: ' "$work/queue_job_runner.log")"
        else
            echo "FAILED: syncs through a real queue_job runner (tools/queue_job_check.py)"
            tail -n 40 "$work/queue_job_runner.log"
            failed=1
        fi
    else
        echo "FAILED: cannot download $QUEUE_JOB_WHEEL (the queue_job pass needs it)"
        failed=1
    fi
fi

if [ -n "${KEEP_ODOO_LOGS:-}" ]; then
    mkdir -p "$KEEP_ODOO_LOGS" && cp "$work"/*.log "$KEEP_ODOO_LOGS"/
fi
echo "odoo: $((ran - test_failures)) passed, $test_failures failed"
exit $failed
