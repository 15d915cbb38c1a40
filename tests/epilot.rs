//! epilot's own client (`@epilot/file-client` 1.23, pinned in web/epilot/package-lock.json)
//! run as its users run it (Node.js, its README's calls) against the local stack:
//! uploadFile, saveFile, downloadS3File, generatePublicLink, listPublicLinksForFile,
//! getSession and saveFileV2 with version_only (web/epilot/test/epilot-client.mjs);
//! the six file collection operations, deleteFile with and without purge, and the
//! client's other query parameters (web/epilot/test/epilot-collections.mjs). `make
//! test` installs it.

use integration_tests::run_node_against_the_stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn epilots_client_drives_upload_save_share_and_versions() {
    run_node_against_the_stack(
        "epilot",
        "node_modules/@epilot/file-client",
        "test/epilot-client.mjs",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn epilots_client_drives_collections_and_the_trash() {
    run_node_against_the_stack(
        "epilot",
        "node_modules/@epilot/file-client",
        "test/epilot-collections.mjs",
    )
    .await;
}
