//! Listing, counting and usage on DynamoDB. Each order is one index (partition `org`,
//! sort [`ListSort::key_of`]); a page is one Query on it, or more when filters leave out
//! items. Range filters on the order's own attribute narrow the key condition; every
//! other filter is a FilterExpression, so what it leaves out is still read (and paid).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::item::{
    item_to_record, sort_index, usage_pk, EXPIRES_AT, EXPIRY_INDEX, EXPIRY_KEY, FILENAME_LC,
    FILE_TYPE, LATEST_SCAN, PURGE_AT, RELATED_IDS, RELATION_TAGS, SIZE_BYTES, TAGS, TRASH_INDEX,
    TRASH_KEY,
};
use super::{n, s, DynamoFiles, Item};
use crate::adapters::sdk::sdk_error;
use crate::domain::{
    size_prefix, FileFilters, FileQuery, FileRecord, ListSort, MimeFilter, ScanStatus,
};
use crate::ports::{Counted, Cursor, Page, PageRequest, Usage, MAX_PAGE_SIZE};
use crate::ports::{Refusal, StorageError, StoreResult as Result};

/// Items one Query reads at most when filters may leave some out: enough that a
/// selective filter does not take a round trip per item, few enough to stay cheap.
const FILTERED_READ: usize = 200;

/// A Query's expressions as they are built: conditions and their placeholders.
#[derive(Default)]
struct Expressions {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    key: Vec<String>,
    filter: Vec<String>,
}

impl Expressions {
    fn name(&mut self, placeholder: &str, attribute: &str) -> &mut Self {
        self.names.insert(placeholder.into(), attribute.into());
        self
    }

    fn value(&mut self, placeholder: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// The organisation's files, listed at `now`, that pass `filters`.
    fn listed(org: &str, filters: &FileFilters, now: &str) -> Self {
        let mut e = Expressions::default();
        e.name("#org", "org").value(":org", s(org));
        e.key.push("#org = :org".into());
        e.name("#versions", "versions")
            .name("#external", "custom_download_url")
            .name("#expires", EXPIRES_AT)
            .value(":zero", n(0))
            .value(":now", s(now));
        e.filter.push(
            "(size(#versions) > :zero OR attribute_exists(#external)) \
             AND (attribute_not_exists(#expires) OR #expires > :now)"
                .into(),
        );
        e.add_filters(filters);
        e
    }

    /// The organisation's trash at `now` ([`FileRecord::is_in_trash`]); with `due`, also
    /// the files past their purge that DynamoDB's TTL has not removed yet.
    fn trashed(org: &str, now: &str, due: bool) -> Self {
        let mut e = Expressions::listed(org, &FileFilters::default(), now);
        if !due {
            e.name("#purge", PURGE_AT);
            e.filter.push("#purge > :now".into());
        }
        e
    }

    fn add_filters(&mut self, f: &FileFilters) {
        if let Some(q) = &f.q {
            self.name("#fname", FILENAME_LC).value(":q", s(q));
            self.filter.push("contains(#fname, :q)".into());
        }
        if let Some(t) = &f.file_type {
            self.name("#ftype", FILE_TYPE).value(":ftype", s(t));
            self.filter.push("#ftype = :ftype".into());
        }
        match &f.mime_type {
            Some(MimeFilter::Exact(m)) => {
                self.name("#mime", "mime_type").value(":mime", s(m));
                self.filter.push("#mime = :mime".into());
            }
            Some(MimeFilter::AnyOf(prefix)) => {
                self.name("#mime", "mime_type").value(":mime", s(prefix));
                self.filter.push("begins_with(#mime, :mime)".into());
            }
            None => {}
        }
        if let Some(tag) = &f.tag {
            self.name("#tags", TAGS).value(":tag", s(tag));
            self.filter.push("contains(#tags, :tag)".into());
        }
        if let Some(status) = f.scan_status {
            self.name("#scan", LATEST_SCAN)
                .value(":scan", s(status.as_str()));
            self.filter.push(if status == ScanStatus::NotScanned {
                "(attribute_not_exists(#scan) OR #scan = :scan)".into()
            } else {
                "#scan = :scan".into()
            });
        }
        if let Some(access) = f.access_control {
            self.name("#access", "access_control")
                .value(":access", s(access.as_str()));
            self.filter.push("#access = :access".into());
        }
        if let Some(id) = &f.related_to {
            self.name("#related", RELATED_IDS).value(":related", s(id));
            self.filter.push("contains(#related, :related)".into());
        }
        if let Some(from) = &f.created_from {
            self.name("#created", "created_at").value(":cfrom", s(from));
            self.filter.push("#created >= :cfrom".into());
        }
        if let Some(to) = &f.created_to {
            self.name("#created", "created_at").value(":cto", s(to));
            self.filter.push("#created < :cto".into());
        }
        if let Some(rt) = &f.relation_tag {
            self.name("#rtags", RELATION_TAGS)
                .value(":rtag", s(&rt.joined()));
            self.filter.push("contains(#rtags, :rtag)".into());
        }
        if let Some(min) = f.size_min {
            self.name("#size", SIZE_BYTES).value(":smin", n(min));
            self.filter.push("#size >= :smin".into());
        }
        if let Some(max) = f.size_max {
            self.name("#size", SIZE_BYTES).value(":smax", n(max));
            self.filter.push("#size <= :smax".into());
        }
    }

    /// Narrows the key condition of `sort`'s index by the range filters on its own
    /// attribute (they stay in the filter too, which then costs nothing).
    fn narrow(&mut self, sort: ListSort, f: &FileFilters) {
        let (from, to) = match sort {
            ListSort::CreatedAt => (f.created_from.clone(), f.created_to.clone()),
            // Keys are `<size>#<id>`: `max` admits every key below `<max + 1>`.
            ListSort::SizeBytes => (
                f.size_min.map(size_prefix),
                f.size_max.and_then(|m| m.checked_add(1)).map(size_prefix),
            ),
            ListSort::UpdatedAt | ListSort::Filename => (None, None),
        };
        let (_, key_attribute) = sort_index(sort);
        // Keys end in `#<id>`, so none equals a bare bound: BETWEEN is `from <= key < to`.
        let condition = match (from, to) {
            (Some(from), Some(to)) => {
                self.value(":kfrom", s(&from)).value(":kto", s(&to));
                "#sk BETWEEN :kfrom AND :kto"
            }
            (Some(from), None) => {
                self.value(":kfrom", s(&from));
                "#sk >= :kfrom"
            }
            (None, Some(to)) => {
                self.value(":kto", s(&to));
                "#sk < :kto"
            }
            (None, None) => return,
        };
        self.name("#sk", key_attribute);
        self.key.push(condition.into());
    }
}

/// The filters a Query on `sort`'s index checks after reading: all but the range on
/// that order's own attribute.
fn residual(sort: ListSort, f: &FileFilters) -> FileFilters {
    let mut rest = f.clone();
    match sort {
        ListSort::CreatedAt => (rest.created_from, rest.created_to) = (None, None),
        ListSort::SizeBytes => (rest.size_min, rest.size_max) = (None, None),
        ListSort::UpdatedAt | ListSort::Filename => {}
    }
    rest
}

/// The index and key condition that count with: the order whose range filters narrow it.
fn counting_sort(f: &FileFilters) -> ListSort {
    if f.created_from.is_none() && f.created_to.is_none() && (f.size_min.or(f.size_max)).is_some() {
        ListSort::SizeBytes
    } else {
        ListSort::CreatedAt
    }
}

impl DynamoFiles {
    /// A Query on `index` with `e`'s conditions.
    fn query(&self, index: &str, e: &Expressions) -> QueryFluentBuilder {
        self.table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(index)
            .key_condition_expression(e.key.join(" AND "))
            .filter_expression(e.filter.join(" AND "))
            .set_expression_attribute_names(Some(e.names.clone()))
            .set_expression_attribute_values(Some(e.values.clone()))
    }

    /// The index key to start after, from a cursor: the base table's key, the
    /// organisation, and the index's sort key (`attribute`).
    fn start_key(org: &str, attribute: &str, cursor: &Cursor) -> Result<Item> {
        let id = cursor
            .file()
            .ok_or(StorageError::Refused(Refusal::Cursor))?;
        let mut key = super::item::file_key(id);
        key.insert("org".into(), s(org));
        key.insert(attribute.into(), s(&cursor.0));
        Ok(key)
    }

    /// One page of `index` under `e`: Queries from `start` until the page holds one item
    /// more than `limit` (so the last page says it is the last) or the index ends; a
    /// `filtered` read asks for at least `FILTERED_READ` items at once, since the filter
    /// leaves some out. `key_of` is the cursor of the page's last item.
    #[allow(clippy::too_many_arguments)]
    async fn read_page(
        &self,
        index: &str,
        e: &Expressions,
        forward: bool,
        mut start: Option<Item>,
        limit: usize,
        filtered: bool,
        key_of: impl Fn(&FileRecord) -> Option<String>,
    ) -> Result<Page<FileRecord>> {
        let mut items = Vec::with_capacity(limit + 1);
        let mut read = 0;
        loop {
            let wanted = limit + 1 - items.len();
            let batch = if filtered {
                wanted.max(FILTERED_READ)
            } else {
                wanted
            };
            let out = self
                .query(index, e)
                .scan_index_forward(forward)
                .limit(batch.min(MAX_PAGE_SIZE + 1) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            read += out.scanned_count().max(0) as u64;
            for item in out.items() {
                items.push(item_to_record(item)?);
            }
            start = out.last_evaluated_key().cloned();
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        let more = items.len() > limit || start.is_some();
        items.truncate(limit);
        let next = match (more, items.last()) {
            (true, Some(last)) => key_of(last).map(Cursor),
            _ => None,
        };
        Ok(Page { items, next, read })
    }

    pub(super) async fn list_page(
        &self,
        org: &str,
        query: &FileQuery,
        page: &PageRequest,
    ) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        let mut e = Expressions::listed(org, &query.filters, &page.now);
        e.narrow(query.sort, &query.filters);
        // Filters the key condition does not serve leave items out: read more at once.
        let filtered = !residual(query.sort, &query.filters).is_empty();
        let (index, attribute) = sort_index(query.sort);
        let start = page
            .after
            .as_ref()
            .map(|c| Self::start_key(org, attribute, c))
            .transpose()?;
        let forward = query.order == crate::domain::SortOrder::Ascending;
        self.read_page(index, &e, forward, start, limit, filtered, |last| {
            Some(query.sort.key_of(last))
        })
        .await
    }

    pub(super) async fn count_files(
        &self,
        org: &str,
        filters: &FileFilters,
        now: &str,
    ) -> Result<Counted> {
        if filters.is_empty() {
            let (usage, read) = self.usage_of(org, now).await?;
            return Ok(Counted {
                count: usage.files,
                read,
            });
        }
        let sort = counting_sort(filters);
        let mut e = Expressions::listed(org, filters, now);
        e.narrow(sort, filters);
        let mut counted = Counted::default();
        let mut start = None;
        loop {
            let out = self
                .query(sort_index(sort).0, &e)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            counted.count += out.count().max(0) as u64;
            counted.read += out.scanned_count().max(0) as u64;
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(counted);
            }
        }
    }

    /// The organisation's usage, and how many items were read for it: the counter of
    /// files without an end, plus the files with one that have not ended.
    pub(super) async fn usage_of(&self, org: &str, now: &str) -> Result<(Usage, u64)> {
        let counter = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("pk", s(&usage_pk(org)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        let field = |name: &str| -> u64 {
            counter
                .item()
                .and_then(|i| i.get(name))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |v| v.max(0) as u64)
        };
        let mut usage = Usage {
            files: field("files"),
            versions: field("versions"),
            bytes: field("bytes"),
            ..Usage::default()
        };
        let mut read = 1;
        // The counter still holds trashed files without an end: they are told apart.
        for record in self.all_trashed(org, now, &mut read).await? {
            if record.expires_at.is_none() {
                usage.files = usage.files.saturating_sub(1);
                usage.versions = usage.versions.saturating_sub(record.versions.len() as u64);
                usage.bytes = usage.bytes.saturating_sub(record.stored_bytes());
            }
            usage.add(&record, now);
        }
        for record in self.ending(org, now, &mut read).await? {
            if record.trash.is_none() {
                usage.add(&record, now);
            }
        }
        Ok((usage, read))
    }

    /// Every trashed file of `org` still stored, due to be purged or not.
    async fn all_trashed(&self, org: &str, now: &str, read: &mut u64) -> Result<Vec<FileRecord>> {
        let e = Expressions::trashed(org, now, true);
        self.all_of(TRASH_INDEX, &e, read).await
    }

    /// Every item a Query on `index` with `e` finds, page after page.
    async fn all_of(
        &self,
        index: &str,
        e: &Expressions,
        read: &mut u64,
    ) -> Result<Vec<FileRecord>> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .query(index, e)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            *read += out.scanned_count().max(0) as u64;
            for item in out.items() {
                records.push(item_to_record(item)?);
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(records);
            }
        }
    }

    /// A page of the organisation's trash, the newest deleted first.
    pub(super) async fn trash_page(
        &self,
        org: &str,
        page: &PageRequest,
    ) -> Result<Page<FileRecord>> {
        let limit = page.limit.clamp(1, MAX_PAGE_SIZE);
        let e = Expressions::trashed(org, &page.now, false);
        let start = page
            .after
            .as_ref()
            .map(|c| Self::start_key(org, TRASH_KEY, c))
            .transpose()?;
        self.read_page(TRASH_INDEX, &e, false, start, limit, true, |last| {
            last.trash.as_ref().map(|t| t.key(last.id))
        })
        .await
    }

    /// How many files the trash lists at `now`.
    pub(super) async fn count_trashed(&self, org: &str, now: &str) -> Result<Counted> {
        let e = Expressions::trashed(org, now, false);
        let mut counted = Counted::default();
        let mut start = None;
        loop {
            let out = self
                .query(TRASH_INDEX, &e)
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            counted.count += out.count().max(0) as u64;
            counted.read += out.scanned_count().max(0) as u64;
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(counted);
            }
        }
    }

    /// The listed files of `org` that have an end after `now`.
    pub(super) async fn ending(
        &self,
        org: &str,
        now: &str,
        read: &mut u64,
    ) -> Result<Vec<FileRecord>> {
        let mut e = Expressions::listed(org, &FileFilters::default(), now);
        e.name("#ek", EXPIRY_KEY);
        e.key.push("#ek > :now".into());
        self.all_of(EXPIRY_INDEX, &e, read).await
    }
}
