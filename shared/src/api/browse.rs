//! getFile and the browse routes: listing, counting, bulk delete and usage. Their query
//! strings are parsed into a [`FileQuery`]: every parameter checked, unknown ones
//! refused (a misspelt filter must not silently list everything).

use std::collections::HashMap;

use axum::extract::State;

use super::request::{BaseUrl, QueryMap, Segments};
use super::respond::{Answer, Reply};
use super::route::Api;
use super::wire::{BulkDeletedJson, CountJson, FileEntity, FileListJson, UsageJson};
use crate::ports::{Backend, ObjectStore};
use crate::service::Caller;

use crate::domain::{
    validate_mime_type, AccessControl, FileFilters, FileQuery, ListSort, MimeFilter, ScanStatus,
    SortOrder,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ports::MAX_PAGE_SIZE;
use crate::service::{DeleteMode, DeleteSelection, DEFAULT_PAGE_SIZE};
use crate::time::{parse_rfc3339, rfc3339};

const FILTERS: &[&str] = &[
    "q",
    "type",
    "mime_type",
    "tag",
    "access_control",
    "related_to",
    "created_from",
    "created_to",
    "size_min",
    "size_max",
    "scan_status",
];

/// Longest text filter a query may hold.
const MAX_FILTER_CHARS: usize = 256;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidQuery, message.into())
}

/// Refuses parameters other than the filters and `extra`.
fn only_known(query: &HashMap<String, String>, extra: &[&str]) -> Result<()> {
    let mut unknown: Vec<&str> = query
        .keys()
        .map(String::as_str)
        .filter(|k| !FILTERS.contains(k) && !extra.contains(k))
        .collect();
    unknown.sort_unstable();
    match unknown.first() {
        None => Ok(()),
        Some(name) => Err(invalid(format!(
            "unknown query parameter {name:?}; filters are {}",
            FILTERS.join(", ")
        ))),
    }
}

/// A text filter: trimmed, not empty, bounded.
fn text(query: &HashMap<String, String>, name: &str) -> Result<Option<String>> {
    match query.get(name).map(|v| v.trim()) {
        None => Ok(None),
        Some(v) if v.is_empty() || v.chars().count() > MAX_FILTER_CHARS => Err(invalid(format!(
            "{name} must be 1 to {MAX_FILTER_CHARS} characters"
        ))),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

fn whole(query: &HashMap<String, String>, name: &str) -> Result<Option<u64>> {
    query
        .get(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| invalid(format!("{name} must be a whole number of bytes")))
        })
        .transpose()
}

/// An instant as the service writes it: RFC 3339, or a date (midnight UTC).
fn instant(query: &HashMap<String, String>, name: &str) -> Result<Option<String>> {
    let Some(raw) = query.get(name).map(|v| v.trim()) else {
        return Ok(None);
    };
    let full = if raw.len() == 10 {
        format!("{raw}T00:00:00Z")
    } else {
        raw.to_owned()
    };
    parse_rfc3339(&full)
        .map(|ms| Some(rfc3339(ms)))
        .ok_or_else(|| {
            invalid(format!(
                "{name} must be a date (2026-11-24) or an RFC 3339 time (2026-11-24T10:00:00Z)"
            ))
        })
}

/// The filters of a browse route.
pub(super) fn file_filters(query: &HashMap<String, String>) -> Result<FileFilters> {
    let mime_type = match text(query, "mime_type")? {
        None => None,
        Some(m) => match m.strip_suffix("/*") {
            Some(top) if top != "*" && validate_mime_type(&format!("{top}/x")).is_ok() => {
                Some(MimeFilter::AnyOf(format!("{top}/")))
            }
            _ => {
                validate_mime_type(&m)?;
                Some(MimeFilter::Exact(m))
            }
        },
    };
    let filters = FileFilters {
        q: text(query, "q")?.map(|q| q.to_lowercase()),
        file_type: text(query, "type")?,
        mime_type,
        tag: text(query, "tag")?,
        access_control: text(query, "access_control")?
            .map(|a| AccessControl::parse(&a))
            .transpose()?,
        related_to: text(query, "related_to")?,
        created_from: instant(query, "created_from")?,
        created_to: instant(query, "created_to")?,
        size_min: whole(query, "size_min")?,
        size_max: whole(query, "size_max")?,
        relation_tag: None,
        scan_status: text(query, "scan_status")?
            .map(|s| {
                ScanStatus::parse(&s).ok_or_else(|| {
                    invalid("scan_status must be not_scanned, pending, clean, infected or error")
                })
            })
            .transpose()?,
    };
    if let (Some(min), Some(max)) = (filters.size_min, filters.size_max) {
        if min > max {
            return Err(invalid("size_min must not be above size_max"));
        }
    }
    if let (Some(from), Some(to)) = (&filters.created_from, &filters.created_to) {
        if from > to {
            return Err(invalid("created_from must not be after created_to"));
        }
    }
    Ok(filters)
}

/// What `GET /v2/files` asks for, parsed at the edge.
pub(super) enum ListRequest {
    Files {
        query: Box<FileQuery>,
        limit: usize,
        cursor: Option<String>,
    },
    /// `trashed=true`: the trash, the newest deleted first.
    Trash {
        limit: usize,
        cursor: Option<String>,
    },
}

/// `trashed=true`, which takes the trash instead of the live files.
fn trashed(query: &HashMap<String, String>) -> Result<bool> {
    boolean(query, "trashed")
}

/// A `true`/`false` parameter (absent or empty: false).
fn boolean(query: &HashMap<String, String>, name: &str) -> Result<bool> {
    match query.get(name).map(String::as_str) {
        None | Some("") | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(invalid(format!("{name} must be true or false"))),
    }
}

/// The trash takes only paging: it has one order and no filters.
fn trash_only(query: &HashMap<String, String>, allowed: &[&str]) -> Result<()> {
    let mut others: Vec<&str> = query
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "trashed" && !allowed.contains(k))
        .collect();
    others.sort_unstable();
    match others.first() {
        None => Ok(()),
        Some(name) => Err(invalid(format!(
            "{name:?} does not apply to the trash, which lists the newest deleted first{}",
            if allowed.is_empty() {
                ""
            } else {
                " and takes only limit and cursor"
            }
        ))),
    }
}

fn page_size(query: &HashMap<String, String>) -> Result<usize> {
    match query.get("limit") {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                invalid(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE_SIZE}"
                ))
            }),
    }
}

/// `GET /v2/files`.
pub(super) fn list_request(query: &HashMap<String, String>) -> Result<ListRequest> {
    let cursor = query.get("cursor").filter(|c| !c.is_empty()).cloned();
    if trashed(query)? {
        trash_only(query, &["limit", "cursor"])?;
        return Ok(ListRequest::Trash {
            limit: page_size(query)?,
            cursor,
        });
    }
    let (query, limit, cursor) = file_list_request(query)?;
    Ok(ListRequest::Files {
        query: Box::new(query),
        limit,
        cursor,
    })
}

/// `GET /v2/files` of live files: the query, the page size and the cursor.
pub(super) fn file_list_request(
    query: &HashMap<String, String>,
) -> Result<(FileQuery, usize, Option<String>)> {
    only_known(query, &["limit", "cursor", "sort", "order", "trashed"])?;
    let sort = match query.get("sort").map(String::as_str) {
        None | Some("") => ListSort::default(),
        Some(s) => ListSort::parse(s).ok_or_else(|| {
            invalid("sort must be created_at, updated_at, filename or size_bytes")
        })?,
    };
    let order = match query.get("order").map(String::as_str) {
        None | Some("") | Some("desc") => SortOrder::Descending,
        Some("asc") => SortOrder::Ascending,
        Some(_) => return Err(invalid("order must be asc or desc")),
    };
    let limit = page_size(query)?;
    let cursor = query.get("cursor").filter(|c| !c.is_empty()).cloned();
    let filters = file_filters(query)?;
    Ok((
        FileQuery {
            filters,
            sort,
            order,
        },
        limit,
        cursor,
    ))
}

/// `GET /v2/files:count`: the live files that pass the filters, or (`None`) the trash.
pub(super) fn count_request(query: &HashMap<String, String>) -> Result<Option<FileFilters>> {
    if trashed(query)? {
        trash_only(query, &[])?;
        return Ok(None);
    }
    only_known(query, &["trashed"])?;
    file_filters(query).map(Some)
}

/// `DELETE /v2/files`: at least one filter, or `all=true`; into the trash unless `purge=true`.
pub(super) fn delete_request(
    query: &HashMap<String, String>,
) -> Result<(DeleteSelection, DeleteMode)> {
    only_known(query, &["all", "purge"])?;
    let all = boolean(query, "all")?;
    let mode = match boolean(query, "purge")? {
        true => DeleteMode::Purge,
        false => DeleteMode::Trash,
    };
    let filters = file_filters(query)?;
    let selection =
        match (filters.is_empty(), all) {
            (true, true) => DeleteSelection::All,
            (false, false) => DeleteSelection::Matching(Box::new(filters)),
            (true, false) => return Err(invalid(
                "name at least one filter, or all=true to delete every file of the organisation",
            )),
            (false, true) => return Err(invalid("all=true takes no filters")),
        };
    Ok((selection, mode))
}

pub(super) async fn get_file<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    path: Segments,
) -> Answer {
    let record = s.get(&caller, path.file_id()?).await?;
    Reply::ok(&FileEntity::new(&record, s.store().bucket(), &base))
}

pub(super) async fn list_files<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    QueryMap(query): QueryMap,
) -> Answer {
    let page = match list_request(&query)? {
        ListRequest::Files {
            query,
            limit,
            cursor,
        } => s.list(&caller, &query, limit, cursor.as_deref()).await?,
        ListRequest::Trash { limit, cursor } => {
            s.list_trash(&caller, limit, cursor.as_deref()).await?
        }
    };
    let bucket = s.store().bucket();
    Reply::ok(&FileListJson {
        results: page
            .items
            .iter()
            .map(|r| FileEntity::new(r, bucket, &base))
            .collect(),
        next_cursor: page.next_cursor.as_deref(),
    })
}

pub(super) async fn count_files<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    QueryMap(query): QueryMap,
) -> Answer {
    let count = match count_request(&query)? {
        Some(filters) => s.count(&caller, &filters).await?,
        None => s.count_trash(&caller).await?,
    };
    Reply::ok(&CountJson { count })
}

pub(super) async fn delete_files<B: Backend>(
    State(s): State<Api<B>>,
    caller: Caller,
    QueryMap(query): QueryMap,
) -> Answer {
    let (selection, mode) = delete_request(&query)?;
    let deleted = s.bulk_delete(&caller, selection, mode).await?;
    Reply::ok(&BulkDeletedJson::from(deleted))
}

pub(super) async fn get_usage<B: Backend>(State(s): State<Api<B>>, caller: Caller) -> Answer {
    Reply::ok(&UsageJson::from(s.usage(&caller).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_parameters_are_checked() {
        let (query, limit, _) = file_list_request(&q(&[
            ("sort", "filename"),
            ("order", "asc"),
            ("limit", "10"),
            ("mime_type", "image/*"),
            ("q", "Rechnung"),
            ("created_from", "2026-11-24"),
        ]))
        .unwrap();
        assert_eq!(limit, 10);
        assert_eq!(query.sort, ListSort::Filename);
        assert_eq!(
            query.filters.mime_type,
            Some(MimeFilter::AnyOf("image/".into()))
        );
        assert_eq!(query.filters.q.as_deref(), Some("rechnung"));
        assert_eq!(
            query.filters.created_from.as_deref(),
            Some("2026-11-24T00:00:00.000Z")
        );
        for bad in [
            &[("limit", "0")][..],
            &[("limit", "1001")],
            &[("sort", "name")],
            &[("order", "up")],
            &[("size_min", "-1")],
            &[("size_min", "5"), ("size_max", "4")],
            &[("created_to", "yesterday")],
            &[("access_control", "secret")],
            &[("mime_type", "*/*")],
            &[("colour", "blue")],
            &[("q", "")],
        ] {
            let err = file_list_request(&q(bad)).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
        }
        assert!(matches!(
            list_request(&q(&[("trashed", "true"), ("limit", "5")])).unwrap(),
            ListRequest::Trash { limit: 5, .. }
        ));
        for bad in [
            &[("trashed", "yes")][..],
            &[("trashed", "true"), ("sort", "filename")],
            &[("trashed", "true"), ("q", "x")],
        ] {
            assert!(list_request(&q(bad)).is_err(), "{bad:?}");
        }
        assert!(count_request(&q(&[("trashed", "true"), ("tag", "x")])).is_err());
        assert_eq!(count_request(&q(&[("trashed", "true")])).unwrap(), None);
        assert!(delete_request(&q(&[])).is_err());
        assert!(delete_request(&q(&[("all", "true"), ("tag", "x")])).is_err());
        assert!(matches!(
            delete_request(&q(&[("all", "true")])).unwrap(),
            (DeleteSelection::All, DeleteMode::Trash)
        ));
        assert!(matches!(
            delete_request(&q(&[("tag", "x"), ("purge", "true")])).unwrap(),
            (DeleteSelection::Matching(_), DeleteMode::Purge)
        ));
    }
}
