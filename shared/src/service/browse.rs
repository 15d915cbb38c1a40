//! Browse and manage: listing with sealed cursors, exact counts, bulk deletes by
//! filter, usage and quotas.

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, DeleteMode, FileService};
use crate::custom_url::SigningKeys;
use crate::domain::{FileFilters, FileQuery, FileRecord, ListSort, OrgId, SortOrder};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::{quota_message, Backend, Cursor, FileRepository, PageRequest, Usage};
use crate::seal::Seal;

/// Items a page holds when the client does not say.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Files one bulk delete removes at most; `more` says whether others match.
pub const MAX_BULK_DELETE: usize = 1000;
/// Deletes of a bulk delete in flight at once.
const BULK_DELETE_CONCURRENCY: usize = 16;
/// How often one file's delete is tried within a bulk delete (each goes on where the
/// last stopped).
const BULK_DELETE_ATTEMPTS: usize = 3;

/// One page as the client sees it.
#[derive(Clone, Debug)]
pub struct ListedPage {
    pub items: Vec<FileRecord>,
    /// Sealed: opaque to the client, bound to its query and organisation.
    pub next_cursor: Option<String>,
    /// Items the store read for this page.
    pub read: u64,
}

/// What a bulk delete did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkDeleted {
    pub deleted: u64,
    /// Other files still match: call again.
    pub more: bool,
}

/// An organisation's usage and the quota it is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageReport {
    pub usage: Usage,
    pub quota_bytes: Option<u64>,
    /// Listed files whose latest version is infected, and the bytes of their infected
    /// versions (included in `usage`): zero while scanning is off.
    pub infected_files: u64,
    pub infected_bytes: u64,
}

/// Which files a bulk delete takes, parsed at the edge: never "all" by omission.
#[derive(Clone, Debug)]
pub enum DeleteSelection {
    Matching(Box<FileFilters>),
    All,
}

/// What a cursor holds, sealed: where the page ended, and the query it belongs to.
#[derive(Serialize, Deserialize)]
struct SealedCursor {
    /// The first 16 bytes of [`FileQuery::digest`], base64.
    q: String,
    p: String,
}

/// A fixed key for cursors when no signing key is configured: they stay opaque and
/// bound to their query, but anyone who reads this source could forge one (it only
/// ever moves a listing within the caller's own organisation).
const UNKEYED_CURSOR_SECRET: &[u8] = b"file-service/unkeyed-list-cursors/v1/0123456789";

impl<B: Backend> FileService<B> {
    fn cursor_seal(&self) -> Result<Seal> {
        let keys = match &self.config.custom_url_keys {
            Some(keys) => keys.clone(),
            None => SigningKeys::new(UNKEYED_CURSOR_SECRET, None)?,
        };
        Ok(Seal::new(&keys, "file-service/list-cursor/v1"))
    }

    fn binding(org: &OrgId, query: &FileQuery) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&query.digest(org.as_str())[..16])
    }

    /// What a cursor of the trash is bound to: the organisation, and not a listing.
    fn trash_binding(org: &OrgId) -> String {
        use base64::Engine;
        let digest = FileQuery::default().digest(&format!("trash:{}", org.as_str()));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    /// The position a client's cursor holds: 400 for one that was changed, made for
    /// another query or organisation, or is not a cursor at all.
    fn open_cursor(&self, org: &OrgId, query: &FileQuery, token: &str) -> Result<Cursor> {
        self.open_cursor_bound(&Self::binding(org, query), token)
    }

    fn open_cursor_bound(&self, binding: &str, token: &str) -> Result<Cursor> {
        let invalid = || {
            Error::new(
                ErrorCode::InvalidCursor,
                "the cursor is not valid for this listing (changed, or made for another query)",
            )
        };
        let sealed: SealedCursor = self.cursor_seal()?.open(token).ok_or_else(invalid)?;
        if sealed.q != binding {
            return Err(invalid());
        }
        let cursor = Cursor(sealed.p);
        cursor.file().ok_or_else(invalid)?;
        Ok(cursor)
    }

    fn seal_cursor(&self, org: &OrgId, query: &FileQuery, cursor: &Cursor) -> Result<String> {
        self.seal_cursor_bound(&Self::binding(org, query), cursor)
    }

    fn seal_cursor_bound(&self, binding: &str, cursor: &Cursor) -> Result<String> {
        self.cursor_seal()?.seal(&SealedCursor {
            q: binding.to_owned(),
            p: cursor.0.clone(),
        })
    }

    /// `GET /v2/files`.
    pub async fn list(
        &self,
        caller: &Caller,
        query: &FileQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<ListedPage> {
        let after = cursor
            .map(|token| self.open_cursor(&caller.org, query, token))
            .transpose()?;
        let page = self
            .files()
            .list(
                caller.org.as_str(),
                query,
                &PageRequest {
                    limit,
                    after,
                    now: self.clock.now_rfc3339(),
                },
            )
            .await?;
        let next_cursor = page
            .next
            .as_ref()
            .map(|c| self.seal_cursor(&caller.org, query, c))
            .transpose()?;
        tracing::info!(items = page.items.len(), read = page.read, "listed");
        Ok(ListedPage {
            items: page.items,
            next_cursor,
            read: page.read,
        })
    }

    /// `GET /v2/files?trashed=true`: the trash, the newest deleted first.
    pub async fn list_trash(
        &self,
        caller: &Caller,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<ListedPage> {
        let binding = Self::trash_binding(&caller.org);
        let after = cursor
            .map(|token| self.open_cursor_bound(&binding, token))
            .transpose()?;
        let page = self
            .files()
            .list_trash(
                caller.org.as_str(),
                &PageRequest {
                    limit,
                    after,
                    now: self.clock.now_rfc3339(),
                },
            )
            .await?;
        let next_cursor = page
            .next
            .as_ref()
            .map(|c| self.seal_cursor_bound(&binding, c))
            .transpose()?;
        Ok(ListedPage {
            items: page.items,
            next_cursor,
            read: page.read,
        })
    }

    /// `GET /v2/files:count?trashed=true`.
    pub async fn count_trash(&self, caller: &Caller) -> Result<u64> {
        let counted = self
            .files()
            .count_trash(caller.org.as_str(), &self.clock.now_rfc3339())
            .await?;
        Ok(counted.count)
    }

    /// `GET /v2/files:count`.
    pub async fn count(&self, caller: &Caller, filters: &FileFilters) -> Result<u64> {
        let counted = self
            .files()
            .count(caller.org.as_str(), filters, &self.clock.now_rfc3339())
            .await?;
        tracing::info!(count = counted.count, read = counted.read, "counted");
        Ok(counted.count)
    }

    /// `DELETE /v2/files`: up to [`MAX_BULK_DELETE`] matching files, oldest first, each
    /// as deleteFile deletes it.
    pub async fn bulk_delete(
        &self,
        caller: &Caller,
        selection: DeleteSelection,
        mode: DeleteMode,
    ) -> Result<BulkDeleted> {
        let filters = match selection {
            DeleteSelection::Matching(filters) => *filters,
            DeleteSelection::All => FileFilters::default(),
        };
        let query = FileQuery {
            filters,
            sort: ListSort::CreatedAt,
            order: SortOrder::Ascending,
        };
        let page = self
            .files()
            .list(
                caller.org.as_str(),
                &query,
                &PageRequest {
                    limit: MAX_BULK_DELETE,
                    after: None,
                    now: self.clock.now_rfc3339(),
                },
            )
            .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
        let outcomes: Vec<_> = stream::iter(ids)
            .map(|id| self.delete_with_retries(caller, id, mode))
            .buffer_unordered(BULK_DELETE_CONCURRENCY)
            .collect()
            .await;
        let mut deleted = 0;
        let mut failed = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(true) => deleted += 1,
                // Deleted or ended meanwhile by someone else.
                Ok(false) => {}
                Err((id, e)) => {
                    tracing::warn!(error = %e, file = %id, "bulk delete: a file not deleted");
                    failed.push(id.to_string());
                }
            }
        }
        if !failed.is_empty() {
            return Err(Error::new(
                ErrorCode::StorageUnavailable,
                format!(
                    "storage is temporarily unavailable: {deleted} files were deleted, these are hidden but not yet deleted, retry DELETE /v2/files/{{id}} for each: {}",
                    failed.join(", ")
                ),
            ));
        }
        Ok(BulkDeleted {
            deleted,
            more: page.next.is_some(),
        })
    }

    /// One file of a bulk delete: `Ok(false)` when it was gone already. Gone on a retry
    /// counts as deleted: the attempt whose answer was lost finished it.
    async fn delete_with_retries(
        &self,
        caller: &Caller,
        id: Uuid,
        mode: DeleteMode,
    ) -> std::result::Result<bool, (Uuid, Error)> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.delete(caller, id, mode).await {
                Ok(_) => return Ok(true),
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(attempt > 1),
                Err(e) if e.is_retryable() && attempt < BULK_DELETE_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt as u64)).await;
                }
                Err(e) => return Err((id, e)),
            }
        }
    }

    /// `GET /v2/usage`.
    pub async fn usage(&self, caller: &Caller) -> Result<UsageReport> {
        let usage = self
            .files()
            .usage(caller.org.as_str(), &self.clock.now_rfc3339())
            .await?;
        let (infected_files, infected_bytes) = self.infected(caller).await?;
        Ok(UsageReport {
            usage,
            quota_bytes: self.config.quotas.for_org(caller.org.as_str()),
            infected_files,
            infected_bytes,
        })
    }

    /// The infected files and bytes of usage: the files a `scan_status=infected` listing
    /// holds, read page by page (only while scanning is on).
    async fn infected(&self, caller: &Caller) -> Result<(u64, u64)> {
        if self.config.scan.mode == crate::config::ScanMode::None {
            return Ok((0, 0));
        }
        let query = FileQuery {
            filters: FileFilters {
                scan_status: Some(crate::domain::ScanStatus::Infected),
                ..FileFilters::default()
            },
            ..FileQuery::default()
        };
        let (mut files, mut bytes) = (0, 0);
        let mut after = None;
        loop {
            let page = PageRequest {
                limit: crate::ports::MAX_PAGE_SIZE,
                after,
                now: self.clock.now_rfc3339(),
            };
            let page = self
                .files()
                .list(caller.org.as_str(), &query, &page)
                .await?;
            for file in &page.items {
                files += 1;
                bytes += file
                    .versions
                    .iter()
                    .filter(|v| v.scan_status() == crate::domain::ScanStatus::Infected)
                    .map(|v| v.size_bytes)
                    .sum::<u64>();
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok((files, bytes)),
            }
        }
    }

    /// 413 `quota_exceeded` before any work when `adding` bytes would pass the
    /// organisation's quota as it stands; the write itself checks again, atomically.
    pub(super) async fn check_quota(&self, org: &OrgId, adding: u64) -> Result<()> {
        let Some(quota) = self.config.quotas.for_org(org.as_str()) else {
            return Ok(());
        };
        // Boxed: reading usage is a large future, and every write path awaits this.
        let usage = Box::pin(self.files().usage(org.as_str(), &self.clock.now_rfc3339())).await?;
        if usage.held_bytes().saturating_add(adding) > quota {
            return Err(Error::new(ErrorCode::QuotaExceeded, quota_message(quota)));
        }
        Ok(())
    }
}
