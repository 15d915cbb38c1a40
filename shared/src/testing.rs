//! A test double around any backend: it counts every storage call, can delay each one
//! (to count round trips on the wire) and can make the n-th fail, before it reaches
//! storage or after (the call took effect, its answer was lost). For tests and
//! benchmarks only, never in a Lambda binary.

use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use uuid::Uuid;

use crate::domain::{
    CollectionScope, CollectionSet, FileFilters, FileQuery, FileRecord, PendingUpload, PublicLink,
    Trash,
};
use crate::ports::{
    CollectionStore, CopyOutcome, Counted, FileChange, FileRepository, MultipartStore,
    MultipartTerms, ObjectMeta, ObjectStore, Page, PageRequest, PartTag, PutTerms, ResponseHeaders,
    Stores, UploadClaim, UploadRecords, Usage,
};
use crate::ports::{StorageError, StoreResult as Result};

/// When the chosen call fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMode {
    /// The call never reaches storage.
    Before,
    /// The call takes effect, then its answer is lost.
    After,
}

/// What every wrapped port shares: the count, the delay and the fault plan.
#[derive(Default)]
pub struct Faults {
    calls: AtomicUsize,
    fail_at: Mutex<Option<(usize, FailMode)>>,
    fail_every: Mutex<Option<&'static str>>,
    delay: Mutex<Duration>,
    log: Mutex<Vec<&'static str>>,
}

impl Faults {
    /// From now on, the `n`-th call (counting from 1, from the last [`reset`](Self::reset)) fails.
    pub fn fail_call(&self, n: usize, mode: FailMode) {
        *self.fail_at.lock().unwrap_or_else(|e| e.into_inner()) = Some((n, mode));
    }

    /// From now on, every call of the operation `name` (e.g. `"DeleteObjects"`) fails
    /// before it reaches storage: an outage of one kind of call.
    pub fn fail_every(&self, name: &'static str) {
        *self.fail_every.lock().unwrap_or_else(|e| e.into_inner()) = Some(name);
    }

    /// Every call waits this long first.
    pub fn delay_each_call(&self, delay: Duration) {
        *self.delay.lock().unwrap_or_else(|e| e.into_inner()) = delay;
    }

    /// Starts counting afresh, with no fault planned.
    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        *self.fail_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.fail_every.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The calls since the last reset, by operation name, in the order they began.
    pub fn calls(&self) -> Vec<&'static str> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn call<T>(&self, name: &'static str, op: impl Future<Output = Result<T>>) -> Result<T> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name);
        let delay = *self.delay.lock().unwrap_or_else(|e| e.into_inner());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let outage = *self.fail_every.lock().unwrap_or_else(|e| e.into_inner());
        if outage == Some(name) {
            return Err(StorageError::unavailable(
                name,
                "injected outage: the call was not made",
            ));
        }
        let plan = *self.fail_at.lock().unwrap_or_else(|e| e.into_inner());
        match plan {
            Some((at, FailMode::Before)) if at == n => Err(StorageError::unavailable(
                name,
                "injected fault: the call was not made",
            )),
            Some((at, FailMode::After)) if at == n => {
                let _ = op.await;
                Err(StorageError::unavailable(
                    name,
                    "injected fault: the answer was lost",
                ))
            }
            _ => op.await,
        }
    }
}

/// One port, wrapped.
pub struct Faulty<T> {
    pub inner: T,
    pub faults: Arc<Faults>,
}

/// A backend whose every port is wrapped.
pub type FaultyStores<S, F, U> = Stores<Faulty<S>, Faulty<F>, Faulty<U>>;

/// Wraps each port of `stores`; the answer's `Faults` steers them all.
pub fn faulty<S, F, U>(stores: Stores<S, F, U>) -> (FaultyStores<S, F, U>, Arc<Faults>) {
    let faults = Arc::new(Faults::default());
    let wrap = |faults: &Arc<Faults>| faults.clone();
    (
        Stores {
            store: Faulty {
                inner: stores.store,
                faults: wrap(&faults),
            },
            files: Faulty {
                inner: stores.files,
                faults: wrap(&faults),
            },
            uploads: Faulty {
                inner: stores.uploads,
                faults: wrap(&faults),
            },
        },
        faults,
    )
}

impl<S: ObjectStore> ObjectStore for Faulty<S> {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }

    async fn presign_put(&self, key: &str, terms: &PutTerms<'_>, ttl: Duration) -> Result<String> {
        // Signing is local: no call to count.
        self.inner.presign_put(key, terms, ttl).await
    }

    async fn presign_get(
        &self,
        key: &str,
        headers: &ResponseHeaders,
        ttl: Duration,
    ) -> Result<String> {
        self.inner.presign_get(key, headers, ttl).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        self.faults.call("HeadObject", self.inner.head(key)).await
    }

    async fn copy(&self, from: &str, to: &str, if_match: Option<&str>) -> Result<CopyOutcome> {
        self.faults
            .call("CopyObject", self.inner.copy(from, to, if_match))
            .await
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta> {
        self.faults
            .call("PutObject", self.inner.put(key, body, content_type))
            .await
    }

    async fn get_range(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<Bytes>> {
        let get = self.inner.get_range(key, range, if_match);
        self.faults.call("GetObject", get).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.faults.call("GetObject", self.inner.get(key)).await
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.faults
            .call("DeleteObjects", self.inner.delete(keys))
            .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.faults
            .call("ListObjectsV2", self.inner.list(prefix))
            .await
    }
}

impl<S: MultipartStore> MultipartStore for Faulty<S> {
    async fn start_multipart(&self, key: &str, terms: &MultipartTerms<'_>) -> Result<String> {
        let start = self.inner.start_multipart(key, terms);
        self.faults.call("CreateMultipartUpload", start).await
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        terms: &PutTerms<'_>,
        ttl: Duration,
    ) -> Result<String> {
        // Signing is local: no call to count.
        self.inner
            .presign_part(key, upload_id, part_number, terms, ttl)
            .await
    }

    async fn copy_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        from: &str,
        range: Range<u64>,
        if_match: &str,
    ) -> Result<Option<PartTag>> {
        let copy = self
            .inner
            .copy_part(key, upload_id, part_number, from, range, if_match);
        self.faults.call("UploadPartCopy", copy).await
    }

    async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Vec<u8>,
    ) -> Result<PartTag> {
        let put = self.inner.put_part(key, upload_id, part_number, body);
        self.faults.call("UploadPart", put).await
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<PartTag>> {
        self.faults
            .call("ListParts", self.inner.list_parts(key, upload_id))
            .await
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartTag],
    ) -> Result<String> {
        let complete = self.inner.complete_multipart(key, upload_id, parts);
        self.faults.call("CompleteMultipartUpload", complete).await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let abort = self.inner.abort_multipart(key, upload_id);
        self.faults.call("AbortMultipartUpload", abort).await
    }
}

impl<F: FileRepository> FileRepository for Faulty<F> {
    async fn get(&self, id: Uuid) -> Result<Option<FileRecord>> {
        self.faults.call("GetItem", self.inner.get(id)).await
    }

    async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<FileRecord>> {
        self.faults
            .call("BatchGetItem", self.inner.get_many(ids))
            .await
    }

    async fn list(
        &self,
        org: &str,
        query: &FileQuery,
        page: &PageRequest,
    ) -> Result<Page<FileRecord>> {
        self.faults
            .call("Query", self.inner.list(org, query, page))
            .await
    }

    async fn count(&self, org: &str, filters: &FileFilters, now: &str) -> Result<Counted> {
        self.faults
            .call("Query", self.inner.count(org, filters, now))
            .await
    }

    async fn usage(&self, org: &str, now: &str) -> Result<Usage> {
        self.faults
            .call("GetItem", self.inner.usage(org, now))
            .await
    }

    async fn create(&self, record: &FileRecord, claim: Option<UploadClaim<'_>>) -> Result<()> {
        self.faults
            .call("PutItem", self.inner.create(record, claim))
            .await
    }

    async fn update_file(
        &self,
        id: Uuid,
        org: &str,
        change: &FileChange,
        claims: &[UploadClaim<'_>],
    ) -> Result<FileChange> {
        let update = self.inner.update_file(id, org, change, claims);
        self.faults.call("UpdateItem", update).await
    }

    async fn remove_version(
        &self,
        id: Uuid,
        org: &str,
        index: usize,
        key: &str,
        now: &str,
    ) -> Result<FileRecord> {
        let remove = self.inner.remove_version(id, org, index, key, now);
        self.faults.call("UpdateItem", remove).await
    }

    async fn add_link(&self, id: Uuid, org: &str, link: &PublicLink) -> Result<()> {
        let add = self.inner.add_link(id, org, link);
        self.faults.call("UpdateItem", add).await
    }

    async fn remove_link(&self, id: Uuid, org: &str, link_id: &str) -> Result<()> {
        let remove = self.inner.remove_link(id, org, link_id);
        self.faults.call("UpdateItem", remove).await
    }

    async fn touch_link(&self, id: Uuid, link_id: &str, at: &str) -> Result<()> {
        let touch = self.inner.touch_link(id, link_id, at);
        self.faults.call("UpdateItem", touch).await
    }

    async fn trash(&self, id: Uuid, org: &str, trash: &Trash) -> Result<FileRecord> {
        let trashed = self.inner.trash(id, org, trash);
        self.faults.call("UpdateItem", trashed).await
    }

    async fn restore(&self, id: Uuid, org: &str, now: &str) -> Result<FileRecord> {
        let restored = self.inner.restore(id, org, now);
        self.faults.call("UpdateItem", restored).await
    }

    async fn list_trash(&self, org: &str, page: &PageRequest) -> Result<Page<FileRecord>> {
        let listed = self.inner.list_trash(org, page);
        self.faults.call("Query", listed).await
    }

    async fn count_trash(&self, org: &str, now: &str) -> Result<Counted> {
        let counted = self.inner.count_trash(org, now);
        self.faults.call("Query", counted).await
    }

    async fn settle_removed(&self, removed: &FileRecord) -> Result<()> {
        let settled = self.inner.settle_removed(removed);
        self.faults.call("TransactWriteItems", settled).await
    }

    async fn begin_delete(&self, id: Uuid, org: &str) -> Result<FileRecord> {
        self.faults
            .call("UpdateItem", self.inner.begin_delete(id, org))
            .await
    }

    async fn finish_delete(&self, id: Uuid, org: &str) -> Result<()> {
        self.faults
            .call("DeleteItem", self.inner.finish_delete(id, org))
            .await
    }

    async fn set_scan(
        &self,
        id: Uuid,
        org: &str,
        key: &str,
        scan: &crate::domain::Scan,
    ) -> Result<Option<FileRecord>> {
        let write = self.inner.set_scan(id, org, key, scan);
        self.faults.call("UpdateItem", write).await
    }
}

impl<F: CollectionStore> CollectionStore for Faulty<F> {
    async fn collections(
        &self,
        org: &str,
        scope: &CollectionScope,
    ) -> Result<Option<CollectionSet>> {
        let read = self.inner.collections(org, scope);
        self.faults.call("GetItem", read).await
    }

    async fn put_collections(&self, set: &CollectionSet, read: u64) -> Result<()> {
        let put = self.inner.put_collections(set, read);
        self.faults.call("PutItem", put).await
    }
}

impl<F: crate::ports::WebhookStore> crate::ports::WebhookStore for Faulty<F> {
    async fn webhooks(&self, org: &str) -> Result<Option<crate::domain::WebhookSet>> {
        self.faults.call("GetItem", self.inner.webhooks(org)).await
    }

    async fn put_webhooks(&self, set: &crate::domain::WebhookSet, read: u64) -> Result<()> {
        let put = self.inner.put_webhooks(set, read);
        self.faults.call("PutItem", put).await
    }

    async fn delivery_log(
        &self,
        org: &str,
        webhook: Uuid,
    ) -> Result<Option<crate::domain::DeliveryLog>> {
        let read = self.inner.delivery_log(org, webhook);
        self.faults.call("GetItem", read).await
    }

    async fn put_delivery_log(&self, log: &crate::domain::DeliveryLog, read: u64) -> Result<()> {
        let put = self.inner.put_delivery_log(log, read);
        self.faults.call("PutItem", put).await
    }
}

impl<U: UploadRecords> UploadRecords for Faulty<U> {
    async fn get_upload(&self, key: &str) -> Result<Option<PendingUpload>> {
        self.faults
            .call("GetItem", self.inner.get_upload(key))
            .await
    }

    async fn put_upload(&self, upload: &PendingUpload) -> Result<bool> {
        self.faults
            .call("UpdateItem", self.inner.put_upload(upload))
            .await
    }
}
