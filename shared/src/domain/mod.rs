//! What a file is, independent of storage and HTTP: entities and versions, the keys
//! their bytes live under, and the rules client-given fields follow.

mod collection;
mod entity;
mod keys;
mod link;
mod mime;
mod org;
mod query;
mod upload;
mod validate;
mod webhook;

pub use collection::{
    is_schema, key_of_name, Collection, CollectionScope, CollectionSet, MAX_COLLECTIONS_PER_SCOPE,
    MAX_COLLECTION_NAME_CHARS,
};
pub use entity::{
    FetchFailure, FileRecord, FileStatus, S3Ref, Scan, ScanStatus, StoredVersion, Trash,
};
pub use keys::{
    preview_prefix, temp_key, version_key, version_key_owner, TempKey, FILES_PREFIX, TEMP_PREFIX,
};
pub use link::{link_file, new_link_id, same_link, PublicLink, MAX_PUBLIC_LINKS};
pub use mime::{
    content_disposition, file_type, filename_from_disposition, guess_mime_type, header_param,
    mime_essence,
};
pub use org::{AccessControl, OrgId};
pub use query::{
    latest_scan, listed_size, related_ids_of, relation_tags_of, size_prefix, tags_of, FileFilters,
    FileQuery, ListSort, MimeFilter, RelationTag, SortOrder,
};
pub use upload::{
    padded_sequencer, PendingUpload, UploadState, MAX_MULTIPART_BYTES, MAX_UPLOAD_BYTES,
    UNSAVED_UPLOAD_LIFETIME_MS,
};
pub use validate::{
    media_type_from_outside, validate_attributes, validate_filename, validate_metadata,
    validate_mime_type, validate_sha256, MAX_FILENAME_BYTES, MAX_METADATA_BYTES,
    MAX_METADATA_ENTRIES, RESERVED_ATTRIBUTES,
};
pub use webhook::{
    new_secret, retry_delay_seconds, signature, DeliveryAttempt, DeliveryLog, DeliveryOutcome,
    Webhook, WebhookSet, MAX_LOGGED_ATTEMPTS, MAX_WEBHOOKS,
};
