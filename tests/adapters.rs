//! The S3 and DynamoDB adapters pass the same named conformance checks as the
//! in-memory ones, against the emulator's real protocol.

use integration_tests::{clients, config, new_org};
use shared::adapters::dynamodb::{DynamoFiles, DynamoUploads};
use shared::adapters::s3::S3Store;

fn s3_store() -> S3Store {
    let clients = clients();
    S3Store::new(clients.s3, clients.credentials, config().bucket)
}

mod s3_store {
    use super::*;
    shared::object_store_conformance!((s3_store(), format!("conformance/{}", new_org())));
}

mod s3_multipart {
    use super::*;
    shared::multipart_conformance!((s3_store(), format!("conformance/{}", new_org())));
}

mod dynamodb_files {
    use super::*;
    shared::file_repository_conformance!((
        DynamoFiles::new(clients().dynamodb, config().table),
        new_org()
    ));
}

mod dynamodb_listing {
    use super::*;
    shared::file_listing_conformance!((
        DynamoFiles::new(clients().dynamodb, config().table),
        new_org()
    ));
}

mod dynamodb_uploads {
    use super::*;
    shared::upload_records_conformance!((
        DynamoUploads::new(clients().dynamodb, config().table),
        new_org()
    ));
}

#[tokio::test]
async fn storage_faults_are_retryable_5xx_errors() {
    // Nothing listens on port 9 of loopback: every call fails like an outage.
    let settings = shared::aws::AwsSettings::emulator("http://127.0.0.1:9");
    let dead = shared::aws::AwsClients::new(settings);
    let store = S3Store::new(dead.s3, dead.credentials, "bucket");
    let repo = DynamoFiles::new(dead.dynamodb, "table");
    use shared::ports::{FileRepository, ObjectStore};
    let store_error = store.head("x").await.unwrap_err();
    let repo_error = repo.get(uuid::Uuid::new_v4()).await.unwrap_err();
    for err in [store_error, repo_error] {
        assert!(
            matches!(err, shared::ports::StorageError::Unavailable { .. }),
            "{err}"
        );
        let err = shared::Error::from(err);
        assert_eq!(err.status(), 503, "{err}");
        assert!(err.is_retryable());
        assert!(
            !err.public_message().contains("127.0.0.1"),
            "the cause is not shown to clients"
        );
    }
}
