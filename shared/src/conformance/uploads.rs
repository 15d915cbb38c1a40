//! What every `UploadRecords` adapter promises. `scope` is the organisation.

use uuid::Uuid;

use crate::domain::{padded_sequencer, PendingUpload, UploadState};
use crate::ports::UploadRecords;

fn created(org: &str) -> PendingUpload {
    PendingUpload {
        key: format!("temp/{org}/{}/upload.pdf", Uuid::new_v4()),
        org: org.into(),
        state: UploadState::Present,
        created_at_ms: 1_000,
        expires_at_ms: 2_000,
        sequencer: padded_sequencer("0A"),
    }
}

pub async fn a_later_event_replaces_an_earlier_one_never_the_reverse<U: UploadRecords>(
    uploads: &U,
    org: &str,
) {
    let created = created(org);
    let key = created.key.clone();
    assert_eq!(
        uploads.get_upload(&key).await.unwrap(),
        None,
        "no record yet"
    );
    assert!(
        uploads.put_upload(&created).await.unwrap(),
        "first record stored"
    );
    assert!(
        !uploads.put_upload(&created).await.unwrap(),
        "the same event twice is stale"
    );
    assert_eq!(
        uploads.get_upload(&key).await.unwrap().as_ref(),
        Some(&created)
    );
    let removed = PendingUpload {
        state: UploadState::Removed,
        sequencer: padded_sequencer("0B"),
        ..created.clone()
    };
    assert!(
        uploads.put_upload(&removed).await.unwrap(),
        "a later event replaces"
    );
    assert!(
        !uploads.put_upload(&created).await.unwrap(),
        "an earlier event arriving late does not"
    );
    assert_eq!(
        uploads.get_upload(&key).await.unwrap().as_ref(),
        Some(&removed)
    );
}
