"""What the docs promise, and the tests that hold them to their word (issues 24 and 36).

``PROMISES`` maps each bold sentence of the docs' "What always holds" page (``docs/promises.md``,
exactly as written, without the ``**``) to the tests that assert it; ``LIMITS`` maps a literal quote
of each limit the docs state there or in ``docs/troubleshooting.md`` (whitespace collapsed to single
spaces) to the tests that assert its literal value. A test that takes the value from the code's
constant does not count: it would pass whatever the constant became. An entry without such a test
has an empty list, a comment on what is missing, and its key in ``KNOWN_GAPS``.
``tests/unit/test_promises.py`` checks all of this against the pages and the test files.
"""

from __future__ import annotations

PROMISES: dict[str, list[str]] = {
    "No duplicate from a lost or late answer.": [
        "tests/unit/webhooks/test_reconcile.py::test_lost_post_answer_is_looked_for_and_never_sent_again",
        "tests/integration/webhooks/test_reconcile.py::test_a_store_that_lags_the_lost_answer_never_gets_a_second_copy",
        "tests/integration/webhooks/test_reconcile.py::test_a_create_that_really_failed_is_made_once_by_the_next_attempt",
    ],
    "A plan is made from what the account holds, while others change it.": [
        "tests/unit/api/test_webhooks.py::test_a_read_whose_pages_contradict_each_other_is_read_again",
        "tests/integration/webhooks/test_consistency.py::test_a_webhook_that_moves_onto_a_page_already_read_is_not_created_again",
        "tests/integration/webhooks/test_consistency.py::test_an_account_that_never_holds_still_fails_before_any_write",
    ],
    "A lost create is looked for on every page": [
        "tests/integration/webhooks/test_consistency.py::test_creates_whose_answers_were_lost_are_found_on_any_page",
        "tests/integration/operators/test_write_faults.py::test_posts_whose_answers_are_lost_after_the_store_make_no_duplicate",
        "tests/integration/operators/test_write_faults.py::test_posts_that_a_lagging_store_has_not_stored_yet_are_never_sent_again",
    ],
    "An approval is bound to its account.": [
        "tests/unit/webhooks/test_reconcile.py::test_plan_id_binds_the_account_it_was_made_for",
        "tests/unit/webhooks/test_reconcile.py::test_plan_id_changes_with_what_would_be_written_and_what_it_touches",
        "tests/integration/webhooks/test_consistency.py::test_a_plan_approved_for_one_account_is_not_applied_to_another",
    ],
    "Racing writers are reported, never misreported.": [
        "tests/integration/webhooks/test_consistency.py::test_a_copy_another_writer_made_meanwhile_is_never_claimed",
        "tests/integration/webhooks/test_consistency.py::test_two_runs_at_once_never_claim_the_same_copy",
    ],
    "A token rotation fails no waiting sensor and no watcher.": [
        "tests/integration/triggers/test_token_rotation.py::test_a_hundred_deferred_sensors_ride_out_a_token_rotation",
        "tests/integration/triggers/test_token_rotation.py::test_a_watcher_reads_on_with_the_new_token_without_a_restart",
        "tests/integration/triggers/test_token_rotation.py::test_a_refusal_of_an_unchanged_connection_still_ends_every_wait",
        "tests/integration/triggers/test_token_rotation.py::test_a_watcher_whose_connection_is_unchanged_warns_once_then_is_quiet",
        "tests/integration/triggers/test_token_rotation.py::test_a_poking_sensor_takes_up_a_token_rotated_between_its_pokes",
        "tests/integration/webhooks/test_consistency.py::test_a_token_rotated_under_a_deferred_sensor_reseals_and_waits_on",
        "tests/integration/webhooks/test_consistency.py::test_a_trigger_stored_by_0_1_0_still_runs",
    ],
    "The token never travels unencrypted.": [
        "tests/unit/api/test_settings.py::test_a_plain_http_base_url_off_this_machine_is_refused_before_any_request",
        "tests/unit/api/test_settings.py::test_loopback_and_https_need_no_opt_in",
        "tests/unit/hooks/test_plusofon.py::test_a_plain_http_connection_off_this_machine_fails_before_any_connection_is_opened",
        "tests/unit/hooks/test_plusofon.py::test_a_plain_http_connection_that_opts_in_is_sent_in_clear_as_asked",
    ],
    "Nothing lost from what is reported.": [
        "tests/integration/operators/test_webhooks.py::test_failure_half_way_reports_what_was_done_then_rerun_converges",
        "tests/integration/operators/test_write_faults.py::test_deletes_that_went_through_are_reported_with_the_one_that_failed",
        "tests/integration/operators/test_write_faults.py::test_a_failed_update_blocks_every_delete",
    ],
    "No request outside the API.": [
        "tests/unit/api/test_webhooks.py::test_list_pages_against_configured_host_and_never_follows_links",
        "tests/unit/api/test_webhooks.py::test_ids_are_validated_before_they_enter_a_path",
        "tests/unit/api/test_webhooks.py::test_a_redirect_is_an_error_and_never_followed",
    ],
    "No secret shown.": [
        "tests/e2e/test_authoring_styles.py::test_the_secret_reaches_no_rendered_field_whatever_the_authoring_style",
        "tests/integration/operators/test_webhooks.py::test_secrets_absent_from_logs_and_xcom",
        "tests/integration/sensors/test_webhooks.py::test_deferrable_defers_to_the_trigger",
        "tests/unit/api/test_webhooks.py::test_an_echoed_token_is_redacted_before_the_message_is_cut",
    ],
    "Bad input is refused before the first request, all at once.": [
        "tests/unit/webhooks/test_spec.py::test_every_problem_is_reported_at_once",
        "tests/unit/api/test_settings.py::test_every_problem_of_the_settings_is_reported_at_once",
        "tests/integration/operators/test_webhooks.py::test_invalid_specs_fail_before_any_request",
    ],
    "The Plusofon page is closed to anyone not logged in, and shows no secret to anyone.": [
        "tests/e2e/test_ui_app.py::test_every_route_refuses_anyone_not_logged_in",
        "tests/e2e/test_ui_app.py::test_a_person_without_the_plugins_view_is_refused",
        "tests/e2e/test_ui_app.py::test_the_configured_auth_manager_decides_with_the_plugins_view",
        "tests/e2e/test_ui_app.py::test_what_is_shown_is_escaped_and_no_secret_reaches_any_response",
    ],
    "Spec files are read strictly.": [
        "tests/unit/webhooks/test_spec_files.py::test_utf8_with_or_without_bom_and_either_line_ending_loads_the_same_in_yaml_and_json",
        "tests/unit/webhooks/test_spec_files.py::test_a_file_in_another_encoding_is_refused_never_read_mangled",
        "tests/unit/webhooks/test_spec_files.py::test_a_key_twice_in_yaml_names_file_line_and_key_never_a_value",
        "tests/unit/webhooks/test_spec_files.py::test_a_parser_error_gives_file_line_and_column_never_the_text_of_the_line",
    ],
    "Bounded work.": [
        "tests/unit/api/test_webhooks.py::test_a_huge_last_page_that_total_contradicts_is_an_error_after_one_request",
        "tests/unit/api/test_webhooks.py::test_list_items_without_a_valid_id_make_the_listing_an_error",
        "tests/unit/api/test_webhooks.py::test_a_server_that_ignores_the_page_number_is_caught",
    ],
}

LIMITS: dict[str, list[str]] = {
    # -- What always holds --------------------------------------------------------------------------
    "timeout, 500/502/503/504, a non-JSON 2xx": [
        "tests/unit/webhooks/test_reconcile.py::test_lost_post_answer_is_looked_for_and_never_sent_again",
        "tests/integration/hooks/test_plusofon.py::test_post_that_failed_without_storing_is_not_resent_and_a_rerun_creates_it",
        "tests/integration/operators/test_write_faults.py::test_a_post_answered_200_with_no_json_is_an_unknown_outcome_never_resent",
    ],
    "the example DAGs use 30 s and more": [
        "tests/e2e/test_dagbag.py::test_the_example_dags_writers_wait_30_s_or_more_between_tries_and_take_one_writers_pool"
    ],
    "Only a 429, or a connection that could not even be opened, re-sends a create within the run": [
        "tests/unit/webhooks/test_reconcile.py::test_post_after_429_is_resent_without_listing",
        "tests/unit/webhooks/test_reconcile.py::test_post_that_could_not_connect_is_sent_again",
    ],
    "After 5 reads that disagree": [
        "tests/unit/api/test_webhooks.py::test_an_account_that_keeps_changing_is_an_error_after_five_reads",
    ],
    "A run that writes nothing": [
        "tests/integration/webhooks/test_consistency.py::test_a_no_op_run_reads_each_page_once",
    ],
    "or only updates, reads each page once": [
        "tests/integration/webhooks/test_consistency.py::test_a_run_that_only_updates_reads_each_page_once"
    ],
    "the pool `plusofon_default`, one slot": [
        "tests/e2e/test_dagbag.py::test_the_example_dags_writers_wait_30_s_or_more_between_tries_and_take_one_writers_pool"
    ],
    "Ids must be positive integers": [
        "tests/unit/api/test_webhooks.py::test_ids_are_validated_before_they_enter_a_path",
        "tests/integration/operators/test_webhooks.py::test_a_templated_webhook_id_is_checked_before_any_request",
    ],
    "a 3xx answer is an error": [
        "tests/unit/api/test_webhooks.py::test_a_redirect_is_an_error_and_never_followed",
        "tests/integration/hooks/test_plusofon.py::test_a_redirect_is_not_followed",
    ],
    "at most 10 MB": [
        "tests/unit/webhooks/test_spec_files.py::test_a_spec_file_over_10_mb_is_refused_before_it_is_parsed",
    ],
    "200,000 values once YAML aliases are expanded": [
        "tests/unit/webhooks/test_spec.py::test_a_yaml_file_whose_aliases_expand_beyond_the_bound_is_refused",
    ],
    "at a page that brings no new id": [
        "tests/unit/api/test_webhooks.py::test_an_endless_paginator_repeating_its_items_stops_at_the_second_page",
    ],
    "and at `max_pages`": [
        "tests/unit/api/test_webhooks.py::test_an_endless_paginator_with_new_items_stops_at_max_pages",
        "tests/unit/api/test_webhooks.py::test_a_huge_last_page_alone_stops_at_max_pages_after_one_request",
    ],
    "An answer is read up to 16 MB": [
        "tests/integration/hooks/test_plusofon.py::test_a_gzip_bomb_is_refused_at_the_cap",
        "tests/unit/api/test_settings.py::test_defaults_are_the_documented_ones",
    ],
    # The test asserts under 40 MB held (the 16 MB read, a copy of it, and change), not 16 MB.
    "a 250 MB gzip bomb is refused holding no more than that": [
        "tests/integration/hooks/test_plusofon.py::test_a_250_mb_gzip_bomb_is_refused_holding_no_more_than_the_16_mb_cap",
    ],
    "Retries stop at `max_retries`": [
        "tests/unit/api/test_webhooks.py::test_server_errors_retried_up_to_max_retries_with_backoff",
        "tests/unit/api/test_webhooks.py::test_429_exhausted_raises_rate_limit_error",
        "tests/unit/api/test_retry.py::test_retries_stop_after_max_retries_and_the_last_error_is_raised",
    ],
    "a `Retry-After` that is not a finite number means backing off as usual": [
        "tests/unit/api/test_webhooks.py::test_a_retry_after_that_says_nothing_usable_means_backing_off",
    ],
    'Ids given as digits (`"12"`) are read as numbers': [
        "tests/unit/api/test_webhooks.py::test_ids_given_as_digits_are_used_as_numbers",
        "tests/unit/api/test_webhooks.py::test_an_id_given_as_digits_is_used_as_a_number",
    ],
    # -- Troubleshooting ----------------------------------------------------------------------------
    "(`PlusofonConfigError`, not retried)": [
        "tests/integration/hooks/test_errors.py::test_https_to_a_plain_http_server_is_not_retried_and_asks_is_it_http",
    ],
    "retried with backoff, as an API restarting comes back": [
        "tests/integration/hooks/test_errors.py::test_nothing_listening_names_the_base_url_and_what_to_check",
    ],
    "For developers → API. Never retried.": [
        "tests/unit/api/test_webhooks.py::test_client_errors_are_mapped_and_never_retried",
        "tests/integration/hooks/test_plusofon.py::test_wrong_token_is_auth_error_without_the_token",
    ],
    "a 429 pauses every request of the task until its `Retry-After` has passed": [
        "tests/unit/api/test_webhooks.py::test_429_waits_for_retry_after",
        "tests/unit/api/test_webhooks.py::test_a_429_pauses_every_later_request_of_the_client",
        "tests/integration/hooks/test_plusofon.py::test_a_429_pauses_the_other_workers_too",
    ],
    "capped at 60 s": [
        "tests/unit/api/test_webhooks.py::test_429_retry_after_is_capped",
        "tests/unit/api/test_retry.py::test_a_retry_after_over_sixty_seconds_pauses_sixty",
    ],
    "exponential backoff when the header is missing": [
        "tests/unit/api/test_webhooks.py::test_429_without_retry_after_backs_off_exponentially",
    ],
    "Lower `max_workers` (default 8)": ["tests/unit/test_init.py::test_eight_requests_in_flight_by_default_everywhere"],
    "the API refused the change with status 200": [
        "tests/unit/api/test_webhooks.py::test_success_false_with_200_is_an_error_showing_message",
        "tests/integration/hooks/test_plusofon.py::test_success_false_fails_without_retry",
    ],
    "five reads in a row": [
        "tests/unit/api/test_webhooks.py::test_an_account_that_keeps_changing_is_an_error_after_five_reads",
    ],
    "more than max_pages=…": [
        "tests/unit/api/test_webhooks.py::test_a_huge_last_page_alone_stops_at_max_pages_after_one_request",
        "tests/integration/hooks/test_plusofon.py::test_a_paginator_that_cannot_be_trusted_costs_a_few_requests_at_most",
    ],
    "an answer over 16 MB (after decompression) was refused": [
        "tests/integration/hooks/test_plusofon.py::test_a_gzip_bomb_is_refused_at_the_cap",
        "tests/integration/hooks/test_plusofon.py::test_a_250_mb_gzip_bomb_is_refused_holding_no_more_than_the_16_mb_cap",
    ],
    "the hook adds it to the Base URL when that has no port of its own": [
        "tests/unit/hooks/test_plusofon.py::test_the_port_field_joins_the_base_url_when_it_has_none",
    ],
    "expands to more than 200000 values": [
        "tests/unit/webhooks/test_spec.py::test_a_yaml_file_whose_aliases_expand_beyond_the_bound_is_refused",
    ],
}

# Entries with no test that asserts them literally yet: each has an empty list above and a comment.
KNOWN_GAPS: set[str] = set()  # every promise and limit has a test that asserts it
