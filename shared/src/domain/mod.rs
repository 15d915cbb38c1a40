//! What a file is, independent of storage and HTTP: entities and versions, the keys
//! their bytes live under, and the rules client-given fields follow.

mod entity;
mod keys;
mod mime;
mod org;
mod upload;
mod validate;

pub use entity::{FileRecord, FileStatus, S3Ref, StoredVersion};
pub use keys::{temp_key, version_key, TempKey, FILES_PREFIX, TEMP_PREFIX};
pub use mime::{
    content_disposition, file_type, filename_from_disposition, guess_mime_type, header_param,
};
pub use org::{AccessControl, OrgId};
pub use upload::{
    padded_sequencer, PendingUpload, UploadState, MAX_MULTIPART_BYTES, MAX_UPLOAD_BYTES,
    UNSAVED_UPLOAD_LIFETIME_MS,
};
pub use validate::{
    validate_attributes, validate_filename, validate_mime_type, validate_sha256,
    MAX_FILENAME_BYTES, RESERVED_ATTRIBUTES,
};
