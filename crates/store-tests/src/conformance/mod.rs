//! The conformance suite: the checks every [`Store`] implementation
//! must pass.
//!
//! Each check is a plain function `fn(&dyn Store)` that expects a **fresh, empty store
//! whose base currency is EUR**, and panics on the first violation of the contract in
//! [`solocrm_core::store`]. Checks assert the exact error variant a method documents
//! (never only that it failed), and that a refused call changed nothing. They build every
//! time from fixed dates and never read the clock.
//!
//! Run them all with the [`store_conformance!`](crate::store_conformance) macro, which
//! expands to one named `#[test]` per check, grouped in one module per topic:
//!
//! ```text
//! solocrm_store_tests::store_conformance!(|| my_crate::MyStore::new(solocrm_core::Currency::EUR));
//! ```
//!
//! [`CHECKS`] lists the same checks as data, for harnesses that are not `cargo test`.
//!
//! **The checks are not a stable API.** They are added, renamed and sharpened whenever
//! the contract of the store trait is; only the macro is meant to be called from
//! outside.
//!
//! The topics: [`customers`] (creation, look-up, update, uniqueness), [`tags`] (tags and
//! consent), [`lifecycle`], [`listing`] (pages and filters), [`activity`] (interactions
//! and surveys), [`purchases`], [`batch`] (bulk purchases), [`import`], [`purchase_log`], [`refunds`],
//! [`pipeline`] (deals and after-sales links), [`service`] (service requests), [`tasks`],
//! [`loyalty`] (points), [`relations`] (deal edits and notes, task cancellation, points
//! tiers, tier and consent segments), [`holidays`] (the stored holiday calendar),
//! [`targets`] (sales targets),
//! [`campaigns`] (campaigns and attribution),
//! [`questionnaire`] (survey templates and sheets), [`participation`], [`needs`],
//! [`offers`] (coupons, redemptions within their limits, offer performance),
//! [`products`] (the catalogue and purchase lines),
//! [`segments`], [`privacy`] (erasure, export, audit),
//! [`ledger`] (customer search and costs), [`voids`] (voided and edited records) and
//! [`general`] (base currency, sharing between threads).

mod support;

pub mod activity;
pub mod batch;
pub mod campaigns;
pub mod customers;
pub mod general;
pub mod holidays;
pub mod import;
pub mod ledger;
pub mod lifecycle;
pub mod listing;
pub mod loyalty;
pub mod needs;
pub mod offers;
pub mod participation;
pub mod pipeline;
pub mod privacy;
pub mod products;
pub mod purchase_log;
pub mod purchases;
pub mod questionnaire;
pub mod refunds;
pub mod relations;
pub mod segments;
pub mod service;
pub mod tags;
pub mod targets;
pub mod tasks;
pub mod voids;

use solocrm_core::Store;

/// One conformance check, as data.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// The topic module, e.g. `"customers"`.
    pub module: &'static str,
    /// The check's name, a sentence in snake case.
    pub name: &'static str,
    /// The check; it wants a fresh store with base currency EUR.
    pub run: fn(&dyn Store),
}

/// Turns the list of checks into [`CHECKS`]. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_table {
    ({} $($module:ident { $($check:ident),* $(,)? })*) => {
        /// Every check, in the order of [`store_conformance!`](crate::store_conformance).
        pub const CHECKS: &[$crate::conformance::Check] = &[
            $($(
                $crate::conformance::Check {
                    module: stringify!($module),
                    name: stringify!($check),
                    run: $crate::conformance::$module::$check,
                },
            )*)*
        ];
    };
}

crate::__store_conformance_list!(__store_conformance_table! {});

/// The one list of checks, by topic module. Adding a check is one line here.
///
/// Calls `$callback! { { args } module { check, ... } ... }`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_list {
    ($callback:ident ! { $($args:tt)* }) => {
        $crate::$callback! { { $($args)* }
            customers {
                a_created_customer_can_be_read_back_with_its_data,
                customer_ids_are_assigned_in_increasing_order,
                an_unknown_customer_is_not_found,
                a_duplicate_email_is_refused_ignoring_case,
                a_duplicate_email_is_refused_ignoring_case_beyond_ascii,
                a_duplicate_external_ref_is_refused,
                external_refs_compare_exactly_so_another_case_is_no_duplicate,
                a_customer_is_found_by_email_ignoring_case,
                a_customer_is_found_by_external_ref_compared_exactly,
                an_acquisition_cost_in_a_foreign_currency_is_refused,
                a_negative_acquisition_cost_is_refused,
                an_acquisition_cost_is_stored_at_the_currency_scale,
                an_update_replaces_the_data_and_keeps_id_stage_and_creation_time,
                an_update_that_keeps_the_own_email_is_accepted,
                an_update_to_another_customers_email_is_refused_ignoring_case,
                an_update_to_another_customers_external_ref_is_refused,
                an_update_with_a_foreign_acquisition_cost_is_refused,
                updating_an_unknown_customer_is_not_found,
                an_email_given_up_in_an_update_is_free_again,
                count_customers_counts_every_customer_from_zero,
            }
            tags {
                tagging_returns_true_then_false_for_a_tag_already_there,
                tags_are_normalised_so_differently_written_tags_are_one,
                untagging_returns_true_then_false_for_a_missing_tag,
                tagging_or_untagging_an_unknown_customer_is_not_found,
                recorded_consents_are_kept_oldest_first_and_the_latest_wins,
                recording_consent_for_an_unknown_customer_is_not_found,
            }
            lifecycle {
                a_stage_change_moves_the_customer_and_returns_the_record,
                a_customer_created_at_a_later_stage_starts_there,
                a_forbidden_lifecycle_transition_is_refused_naming_both_stages,
                a_stage_change_back_in_time_is_refused,
                a_stage_change_at_the_time_of_the_last_one_is_accepted,
                stage_history_is_recorded_oldest_first_with_reasons,
                a_customer_without_stage_changes_has_an_empty_history,
                changing_or_reading_the_stage_of_an_unknown_customer_is_not_found,
            }
            listing {
                an_empty_store_lists_no_customers_and_no_next_page,
                a_page_size_of_zero_is_refused,
                a_page_size_above_the_maximum_is_refused_and_the_maximum_is_accepted,
                customers_are_listed_ascending_by_id_page_after_page,
                an_exact_page_boundary_loses_and_repeats_no_customer,
                a_short_last_page_has_no_next_cursor,
                a_cursor_between_or_past_ids_is_a_plain_lower_bound,
                keyset_pages_stay_correct_while_customers_are_added,
                customers_are_filtered_by_stage,
                customers_are_filtered_by_tag,
                customers_are_filtered_by_segment_as_of_a_time,
                a_purchase_exactly_at_as_of_counts_for_the_segment_filter,
                filters_apply_before_the_page_size,
                erased_customers_are_listed_only_when_included,
            }
            activity {
                a_logged_interaction_is_listed_with_its_fields,
                interactions_are_ordered_by_time_then_id,
                interactions_are_filtered_by_customer_and_half_open_time_range,
                logging_an_interaction_for_an_unknown_customer_is_not_found,
                a_survey_answer_is_recorded_and_listed_with_its_fields,
                surveys_are_ordered_by_time_then_id_and_filtered,
                a_survey_for_an_unknown_customer_is_not_found,
            }
            purchases {
                a_recorded_purchase_can_be_read_back_with_all_fields,
                an_unknown_purchase_is_not_found,
                a_purchase_of_an_unknown_customer_is_not_found,
                a_purchase_in_a_foreign_currency_is_refused,
                a_purchase_with_sub_cent_digits_is_refused,
                trailing_zeros_beyond_the_minor_unit_are_accepted_and_rescaled,
                a_negative_purchase_amount_is_refused,
                a_negative_or_foreign_purchase_cost_is_refused,
                a_zero_amount_purchase_is_accepted_and_counted,
                a_duplicate_purchase_reference_is_refused,
                purchases_are_ordered_by_time_then_id,
                purchases_are_filtered_by_customer_and_half_open_time_range,
                purchases_a_fraction_of_a_second_apart_are_ordered_and_filtered_exactly,
                the_largest_amount_that_fits_is_kept_and_a_larger_one_refused,
            }
            batch {
                a_batch_of_purchases_is_recorded_with_ids_in_row_order,
                an_empty_batch_records_nothing,
                a_batch_with_one_invalid_row_writes_nothing_and_names_the_row,
                a_batch_row_of_an_unknown_customer_is_refused_with_its_index,
                a_reference_repeated_within_a_batch_is_refused,
                a_batch_row_whose_reference_is_already_stored_is_refused,
                a_batch_reports_the_first_bad_row,
                a_long_batch_names_its_first_refused_row_wherever_it_is,
                a_batch_row_with_a_bad_deal_link_is_refused,
            }
            import {
                an_import_creates_updates_and_records_for_new_and_existing_customers,
                an_empty_import_changes_nothing,
                an_import_with_one_bad_record_writes_nothing_and_names_it,
                an_import_reports_the_first_refused_record_in_section_order,
                an_import_checks_each_record_against_the_records_before_it,
                an_import_refuses_repeated_and_stored_purchase_references,
                an_import_ref_to_a_new_customer_beyond_the_batch_is_not_found,
                an_import_for_an_erased_customer_is_refused,
                an_import_naming_most_of_a_large_book_refuses_erased_and_unknown_customers,
                a_long_import_names_its_first_refused_purchase,
                streamed_parts_apply_in_turn_as_one_import,
                a_refused_record_or_a_failing_source_writes_no_part,
                a_reference_repeated_in_a_later_part_is_a_repeat_within_the_import,
                customer_keys_list_every_customer_with_their_keys,
            }
            purchase_log {
                the_purchase_log_of_an_empty_store_is_empty_in_the_base_currency,
                the_purchase_log_lists_every_customer_ascending_even_without_purchases,
                purchase_log_rows_come_in_id_order_with_amounts_in_minor_units,
            }
            refunds {
                a_partial_refund_is_recorded_and_listed,
                refunds_may_add_up_to_the_purchase_but_not_beyond,
                a_refund_exceeding_what_is_left_is_refused_and_nothing_written,
                a_refund_of_a_free_purchase_is_refused,
                a_refund_before_its_purchase_is_refused,
                a_refund_at_the_time_of_its_purchase_is_accepted,
                a_zero_or_negative_refund_is_refused,
                a_refund_in_a_foreign_currency_or_with_sub_cent_digits_is_refused,
                a_refund_of_an_unknown_purchase_is_not_found,
                refunds_are_filtered_by_the_purchase_customer_and_the_refund_time,
            }
            voids {
                a_voided_purchase_is_kept_and_left_out_of_every_metric_read,
                a_voided_purchase_refuses_a_second_void_a_refund_and_an_edit,
                a_refunded_or_unknown_purchase_cannot_be_voided,
                an_edited_purchase_changes_only_the_named_fields,
                an_edit_that_breaks_refunds_or_references_is_refused,
                interactions_are_read_by_id_edited_and_voided,
                survey_answers_are_read_by_id_and_voided,
                erasure_removes_void_reasons_and_keeps_the_voids,
            }
            pipeline {
                a_created_deal_starts_at_its_first_stage_with_no_history,
                a_deal_of_an_unknown_customer_is_not_found,
                a_deal_with_a_negative_value_or_foreign_currency_is_refused,
                a_deal_cannot_start_closed,
                deal_moves_are_recorded_oldest_first,
                a_closed_deal_refuses_further_moves,
                a_deal_move_to_its_current_stage_is_refused,
                a_deal_move_back_in_time_is_refused,
                an_unknown_deal_is_not_found,
                deals_are_listed_by_id_and_filtered_by_customer_and_openness,
                a_purchase_may_follow_a_won_deal_of_its_customer,
                a_purchase_linked_to_a_deal_of_another_customer_is_refused,
                a_purchase_linked_to_a_deal_that_is_not_won_is_refused,
                a_purchase_linked_to_an_unknown_deal_is_not_found,
                a_service_request_may_follow_a_won_deal_of_its_customer,
                a_service_request_with_a_bad_deal_link_is_refused,
            }
            service {
                an_opened_request_is_open_with_one_event,
                a_request_is_responded_to_resolved_and_reopened,
                resolving_without_a_response_counts_as_the_first_response,
                forbidden_request_steps_are_refused_naming_the_status,
                a_request_step_back_in_time_is_refused,
                an_unknown_request_is_not_found,
                a_request_of_an_unknown_customer_is_not_found,
                requests_are_listed_by_id_and_filtered_by_customer_and_openness,
            }
            tasks {
                a_one_off_task_completes_once_then_is_already_done,
                a_recurring_task_advances_its_due_date_when_completed,
                a_task_may_concern_no_customer,
                a_task_of_an_unknown_customer_is_not_found,
                an_unknown_task_is_not_found,
                tasks_are_ordered_by_due_date_then_id,
                tasks_are_filtered_by_customer_due_date_and_done,
                a_recurring_task_is_filtered_by_its_current_due_date,
            }
            loyalty {
                points_are_earned_and_redeemed_with_running_balances,
                a_redeem_beyond_the_balance_is_refused_and_nothing_written,
                an_expiry_or_adjustment_below_zero_is_refused,
                the_balance_of_a_customer_without_entries_is_zero,
                points_of_an_unknown_customer_are_not_found,
                ledgers_are_per_customer_in_posting_order,
            }
            relations {
                a_deal_is_edited_and_noted_and_keeps_its_lost_reason,
                a_refused_deal_edit_changes_nothing,
                a_cancelled_task_is_kept_closed_and_left_out_of_open_lists,
                an_edited_task_reads_back_with_its_new_fields,
                points_tiers_are_stored_moved_and_removed,
                tier_and_consent_segments_select_the_right_customers,
            }
            holidays {
                holidays_are_stored_replaced_and_removed,
                a_stored_calendar_lists_its_holidays,
            }
            campaigns {
                campaigns_are_added_listed_edited_and_ended,
                customers_deals_and_costs_are_attributed_to_one_campaign,
                an_import_batchs_attributions_are_all_or_nothing_with_its_customers,
                erasure_removes_a_customers_attribution,
            }
            targets {
                targets_are_set_replaced_listed_and_removed,
                a_revenue_target_in_fractions_of_a_cent_is_refused,
            }
            questionnaire {
                survey_templates_and_sheets_are_stored_and_listed_in_order,
                a_survey_sheet_that_does_not_fit_is_refused,
                survey_dimensions_are_analysed_over_the_stored_sheets,
                erasure_scrubs_the_free_text_of_survey_sheets,
                a_survey_template_is_renamed_with_its_sheets_and_keeps_answered_questions,
                a_survey_template_is_removed_only_while_unanswered,
                an_archived_survey_template_takes_no_answers_until_unarchived,
                a_survey_sheet_is_voided_once_and_counts_in_no_analysis,
            }
            needs {
                needs_are_stored_listed_resolved_and_voided,
                a_need_that_cannot_be_is_refused,
                need_and_pain_point_segments_select_open_entries,
                erasure_scrubs_the_notes_of_needs,
            }
            participation {
                participations_are_stored_and_listed_in_order,
                a_participation_of_an_unknown_or_erased_customer_is_refused,
                erasure_scrubs_the_notes_of_participations,
            }
            offers {
                offers_are_stored_listed_and_ended,
                a_coupon_discounts_the_purchase_exactly,
                a_refused_coupon_writes_nothing,
                a_coupon_is_never_redeemed_beyond_its_limits,
                concurrent_redemptions_stay_within_the_limits,
                offer_stats_count_redemptions_revenue_discount_and_new_buyers,
                erasing_a_redeemer_keeps_the_redemptions,
                a_redeemed_purchase_keeps_its_time_and_amount,
            }
            products {
                products_are_added_read_edited_and_listed_by_sku,
                a_purchase_with_lines_adds_up_exactly_and_reads_back_in_order,
                a_product_named_by_lines_is_archived_not_deleted,
                erasure_keeps_the_lines_of_an_erased_customers_purchases,
                an_import_writes_lines_beside_its_purchases_all_or_none,
            }
            segments {
                a_saved_segment_can_be_read_back_by_name,
                a_duplicate_segment_name_is_refused,
                segment_names_compare_exactly,
                segments_are_listed_by_name,
                a_deleted_segment_is_gone_and_its_name_free_again,
                an_unknown_segment_is_not_found,
                a_segment_nested_too_deep_is_refused_and_nothing_saved,
            }
            privacy {
                erasing_removes_personal_data_and_keeps_id_stage_and_acquisition,
                erasing_clears_interaction_summaries_and_keeps_their_facts,
                erasing_clears_purchase_descriptions_and_keeps_amounts,
                erasing_clears_refund_reasons_and_keeps_amounts,
                erasing_clears_survey_comments_and_keeps_scores,
                erasing_blanks_service_requests_and_keeps_their_times,
                erasing_blanks_deal_titles_and_keeps_values_and_stages,
                erasing_blanks_task_titles_and_keeps_their_schedule,
                erasing_clears_points_reasons_and_keeps_the_ledger,
                erasing_drops_manual_stage_notes_and_keeps_the_history,
                erasing_leaves_other_customers_untouched,
                an_erasure_adds_an_audit_entry_holding_only_the_id,
                erasing_twice_is_refused_as_already_erased,
                erasing_an_unknown_customer_is_not_found,
                an_erased_customer_refuses_updates_tags_and_consents,
                an_erased_customer_refuses_new_activity_records,
                an_erased_customer_refuses_text_on_steps_of_existing_records,
                an_erased_customers_email_and_external_ref_are_free_again,
                erased_customers_stay_counted_and_in_the_purchase_log,
                an_export_bundles_every_record_of_the_customer,
                the_export_of_an_erased_customer_shows_placeholders,
                exporting_an_unknown_customer_is_not_found,
                the_audit_log_lists_erasures_oldest_first,
            }
            ledger {
                search_finds_substrings_of_name_email_company_city_and_notes,
                search_finds_chinese_substrings_of_any_length,
                search_ranks_the_exact_name_first_then_by_name,
                search_follows_edits_at_once,
                search_with_many_hits_ranks_them_all,
                an_erased_customer_is_never_found,
                costs_read_back_by_time_then_id,
                a_cost_of_zero_or_in_another_currency_is_refused,
                a_voided_cost_stays_and_is_voided_once,
            }
            general {
                the_store_keeps_its_books_in_the_base_currency,
                times_keep_their_sub_second_precision,
                concurrent_creates_get_distinct_increasing_ids,
                concurrent_creates_with_one_email_admit_exactly_one,
                concurrent_redeems_never_overdraw_the_balance,
            }
        }
    };
}

/// Expands to one `#[test]` per conformance check, grouped in one module per topic
/// (`customers::a_duplicate_email_is_refused_ignoring_case`, ...).
///
/// `$setup` is called once per test, as `$setup()`, and must return a fresh, empty
/// store (any type implementing [`Store`](solocrm_core::Store)) whose base currency is
/// EUR. A closure works, and so does the name of a function in scope:
///
/// ```text
/// solocrm_store_tests::store_conformance!(|| Crm::new(MemoryStore::new(Currency::EUR)));
/// ```
#[macro_export]
macro_rules! store_conformance {
    ($setup:expr $(,)?) => {
        $crate::__store_conformance_list!(__store_conformance_tests! { $setup });
    };
}

/// Turns the list of checks into test modules. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    ({ $setup:expr } $($module:ident { $($check:ident),* $(,)? })*) => {
        $(
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[test]
                    fn $check() {
                        let store = ($setup)();
                        $crate::conformance::$module::$check(&store);
                    }
                )*
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::CHECKS;

    #[test]
    fn the_list_holds_every_check_once() {
        assert!(CHECKS.len() >= 60, "only {} checks", CHECKS.len());
        let mut names: Vec<(&str, &str)> = CHECKS.iter().map(|c| (c.module, c.name)).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a check is listed twice");
    }

    #[test]
    fn every_public_check_is_in_the_list() {
        // Each topic file's `pub fn` must appear in the list, or it would never run.
        let sources: &[(&str, &str)] = &[
            ("activity", include_str!("activity.rs")),
            ("batch", include_str!("batch.rs")),
            ("campaigns", include_str!("campaigns.rs")),
            ("customers", include_str!("customers.rs")),
            ("general", include_str!("general.rs")),
            ("holidays", include_str!("holidays.rs")),
            ("products", include_str!("products.rs")),
            ("import", include_str!("import.rs")),
            ("ledger", include_str!("ledger.rs")),
            ("lifecycle", include_str!("lifecycle.rs")),
            ("listing", include_str!("listing.rs")),
            ("loyalty", include_str!("loyalty.rs")),
            ("offers", include_str!("offers.rs")),
            ("pipeline", include_str!("pipeline.rs")),
            ("needs", include_str!("needs.rs")),
            ("participation", include_str!("participation.rs")),
            ("privacy", include_str!("privacy.rs")),
            ("questionnaire", include_str!("questionnaire.rs")),
            ("purchase_log", include_str!("purchase_log.rs")),
            ("purchases", include_str!("purchases.rs")),
            ("refunds", include_str!("refunds.rs")),
            ("relations", include_str!("relations.rs")),
            ("segments", include_str!("segments.rs")),
            ("service", include_str!("service.rs")),
            ("tags", include_str!("tags.rs")),
            ("targets", include_str!("targets.rs")),
            ("tasks", include_str!("tasks.rs")),
            ("voids", include_str!("voids.rs")),
        ];
        let mut public = 0;
        for (module, source) in sources {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub fn ") {
                    let name = rest.split('(').next().unwrap_or_default();
                    public += 1;
                    assert!(
                        CHECKS.iter().any(|c| c.module == *module && c.name == name),
                        "{module}::{name} is public but not in the list"
                    );
                }
            }
        }
        assert_eq!(public, CHECKS.len());
    }
}
