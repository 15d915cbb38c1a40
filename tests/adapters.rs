//! The S3 and DynamoDB adapters pass the same conformance suite as the in-memory ones,
//! against the emulator's real protocol.

use integration_tests::{clients, config, new_org};
use shared::adapters::dynamodb::DynamoRepository;
use shared::adapters::s3::S3Store;
use shared::conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_conforms() {
    let clients = clients();
    let store = S3Store::new(clients.s3, clients.credentials, config().bucket);
    conformance::object_store(&store, &format!("conformance/{}", new_org())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_repository_conforms() {
    let repo = DynamoRepository::new(clients().dynamodb, config().table);
    conformance::file_repository(&repo, &new_org()).await;
}

#[tokio::test]
async fn storage_faults_are_retryable_5xx_errors() {
    // Nothing listens on port 9 of loopback: every call fails like an outage.
    let settings = shared::aws::AwsSettings::emulator("http://127.0.0.1:9");
    let dead = shared::aws::AwsClients::new(settings);
    let store = S3Store::new(dead.s3, dead.credentials, "bucket");
    let repo = DynamoRepository::new(dead.dynamodb, "table");
    use shared::ports::{FileRepository, ObjectStore};
    let store_error = store.head("x").await.unwrap_err();
    let repo_error = repo.get(uuid::Uuid::new_v4()).await.unwrap_err();
    for err in [store_error, repo_error] {
        assert_eq!(err.status(), 503, "{err}");
        assert!(err.is_retryable());
        assert!(
            !err.public_message().contains("127.0.0.1"),
            "the cause is not shown to clients"
        );
    }
}
