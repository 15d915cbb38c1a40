//! Named checks every adapter of a port must pass: the in-memory ones in unit tests,
//! S3 and DynamoDB in the integration tests against the emulator. Each check is a
//! promise of the port; it panics with a message that says which promise broke.
//!
//! Compiled for tests only (`cfg(test)` or the `conformance` feature), never into a
//! Lambda binary. An adapter runs every check of a port with one macro call, which
//! makes one test per check:
//!
//! ```ignore
//! shared::object_store_conformance!((MemoryStore::new("bucket"), "scope".to_string()));
//! ```
//! The expression builds `(adapter, scope)`; the scope (a key prefix, or an
//! organisation) must be unique per run so that checks never see each other's data.

pub mod browse;
pub mod collections;
pub mod files;
pub mod multipart;
pub mod object_store;
pub mod trash;
pub mod uploads;
pub mod webhooks;

/// One `#[tokio::test]` per named check of `$module`, each with a fresh `$make`.
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $make:expr, [$($check:ident),* $(,)?]) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (subject, scope) = $make;
            $crate::conformance::$module::$check(&subject, &scope).await;
        }
    )*};
}

/// Every `ObjectStore` check.
#[macro_export]
macro_rules! object_store_conformance {
    ($make:expr) => {
        $crate::conformance_tests!(
            object_store,
            $make,
            [
                missing_keys_read_as_absent,
                put_then_head_and_get_round_trip,
                copy_keeps_bytes_and_content_type,
                copy_of_a_missing_key_writes_nothing,
                copy_only_while_the_source_is_unchanged,
                list_answers_the_prefix_in_key_order,
                presigned_urls_differ_by_method,
                delete_is_idempotent,
                ranged_reads_only_while_the_object_is_unchanged,
            ]
        );
    };
}

/// Every `MultipartStore` check (and the streaming put built on it).
#[macro_export]
macro_rules! multipart_conformance {
    ($make:expr) => {
        $crate::conformance_tests!(
            multipart,
            $make,
            [
                parts_join_in_order_and_stay_invisible_until_completed,
                list_parts_shows_what_a_resumed_upload_can_skip,
                abort_leaves_nothing,
                unknown_uploads_are_not_found,
                a_small_stream_is_one_put,
                a_large_stream_is_stored_in_parts,
                a_failing_stream_leaves_no_object,
                a_declared_checksum_stays_with_the_completed_object,
                a_copy_in_parts_is_byte_exact_and_conditional,
            ]
        );
    };
}

/// Every `FileRepository` check.
#[macro_export]
macro_rules! file_repository_conformance {
    ($make:expr) => {
        $crate::conformance_tests!(
            files,
            $make,
            [
                missing_files_read_as_none,
                records_round_trip,
                create_of_a_taken_id_is_a_conflict,
                update_appends_a_version_for_the_owner_only,
                metadata_changes_keep_the_versions,
                versions_get_strictly_increasing_timestamps,
                concurrent_appends_all_land,
                get_many_finds_each_file_once,
                a_file_being_deleted_is_hidden_and_frozen,
                a_claimed_upload_is_consumed_once,
                list_pages_newest_first_without_gaps_or_repeats,
                a_fetch_is_ended_only_by_its_own_job,
                lists_hold_only_files_with_bytes_that_have_not_ended,
                a_batch_of_versions_lands_in_one_write,
                a_version_is_removed_but_never_the_last,
                links_are_added_listed_touched_and_revoked,
                scan_verdicts_land_on_their_version,
            ]
        );
        $crate::conformance_tests!(
            trash,
            $make,
            [
                a_trashed_file_is_hidden_frozen_and_restored_whole,
                usage_counts_the_trash_apart,
                the_trash_pages_newest_deleted_first,
                a_purge_from_the_trash_wins_over_a_restore,
            ]
        );
        $crate::conformance_tests!(
            collections,
            $make,
            [
                collections_round_trip_on_their_revision,
                scopes_and_organisations_are_apart,
            ]
        );
        $crate::conformance_tests!(
            webhooks,
            $make,
            [
                webhooks_round_trip_on_their_revision,
                delivery_logs_round_trip_per_webhook_and_organisation,
            ]
        );
    };
}

/// Every check of listings, counts and usage (`FileRepository` too).
#[macro_export]
macro_rules! file_listing_conformance {
    ($make:expr) => {
        $crate::conformance_tests!(
            browse,
            $make,
            [
                every_sort_pages_without_gaps_or_repeats,
                filters_and_their_combinations_list_and_count_alike,
                usage_follows_every_write,
            ]
        );
    };
}

/// Every `UploadRecords` check.
#[macro_export]
macro_rules! upload_records_conformance {
    ($make:expr) => {
        $crate::conformance_tests!(
            uploads,
            $make,
            [a_later_event_replaces_an_earlier_one_never_the_reverse,]
        );
    };
}

#[cfg(test)]
mod memory {
    use crate::adapters::memory::{MemoryFiles, MemoryStore, MemoryUploads};

    mod object_store {
        use super::*;
        crate::object_store_conformance!((MemoryStore::new("bucket"), "conformance".to_string()));
    }

    mod multipart {
        use super::*;
        crate::multipart_conformance!((MemoryStore::new("bucket"), "conformance".to_string()));
    }

    mod files {
        use super::*;
        crate::file_repository_conformance!((MemoryFiles::default(), "org-1".to_string()));
    }

    mod listing {
        use super::*;
        crate::file_listing_conformance!((MemoryFiles::default(), "org-1".to_string()));
    }

    mod uploads {
        use super::*;
        crate::upload_records_conformance!((MemoryUploads::default(), "org-1".to_string()));
    }
}
