//! What a listing asks for: which of an organisation's files (filters), in which order
//! (sort). Parsed at the edge; adapters serve it, and [`FileQuery::matches`] and
//! [`ListSort::key_of`] are the definition both the in-memory and the DynamoDB adapter
//! follow (the conformance checks hold them to it).

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{file_type, AccessControl, FileRecord, ScanStatus};

/// The orders a listing can have; each is one index of the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListSort {
    #[default]
    CreatedAt,
    UpdatedAt,
    /// Case-insensitive (Unicode lowercase), then by id.
    Filename,
    SizeBytes,
}

impl ListSort {
    pub const ALL: [ListSort; 4] = [
        ListSort::CreatedAt,
        ListSort::UpdatedAt,
        ListSort::Filename,
        ListSort::SizeBytes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListSort::CreatedAt => "created_at",
            ListSort::UpdatedAt => "updated_at",
            ListSort::Filename => "filename",
            ListSort::SizeBytes => "size_bytes",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        ListSort::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Where a file stands in this order: a string that sorts (bytewise, as DynamoDB
    /// sorts its keys) as the files should, unique thanks to the id at its end.
    pub fn key_of(self, record: &FileRecord) -> String {
        let id = record.id;
        match self {
            ListSort::CreatedAt => format!("{}#{id}", record.created_at),
            ListSort::UpdatedAt => format!("{}#{id}", record.updated_at),
            ListSort::Filename => format!("{}#{id}", record.filename.to_lowercase()),
            ListSort::SizeBytes => format!("{}#{id}", size_prefix(listed_size(record))),
        }
    }
}

/// A size as the start of a key: fixed width, so sizes sort as strings.
pub fn size_prefix(size: u64) -> String {
    format!("{size:020}")
}

/// The size a file is listed with: its latest version's (0 for external files).
pub fn listed_size(record: &FileRecord) -> u64 {
    record.latest().map_or(0, |v| v.size_bytes)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Descending,
    Ascending,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Descending => "desc",
            SortOrder::Ascending => "asc",
        }
    }
}

/// `mime_type=`: one type, or every subtype of one (`image/*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MimeFilter {
    Exact(String),
    /// The top type with its slash: `image/`.
    AnyOf(String),
}

impl MimeFilter {
    pub fn matches(&self, mime_type: &str) -> bool {
        match self {
            MimeFilter::Exact(m) => mime_type == m,
            MimeFilter::AnyOf(prefix) => mime_type.starts_with(prefix.as_str()),
        }
    }
}

/// Which files: every filter given must hold. Timestamps are RFC 3339 in the form the
/// service writes (`created_from` inclusive, `created_to` exclusive); sizes inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFilters {
    /// Lowercased: a substring of the lowercased filename.
    pub q: Option<String>,
    pub file_type: Option<String>,
    pub mime_type: Option<MimeFilter>,
    pub tag: Option<String>,
    pub access_control: Option<AccessControl>,
    pub related_to: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub size_min: Option<u64>,
    pub size_max: Option<u64>,
    /// In a collection of an entity: a relation to the entity carries the tag.
    pub relation_tag: Option<RelationTag>,
    /// The latest version's malware scan.
    pub scan_status: Option<ScanStatus>,
}

/// A relation to `entity_id` whose `_tags` hold `tag` (a collection's slug).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationTag {
    pub entity_id: String,
    pub tag: String,
}

impl RelationTag {
    /// As stored beside a file, one string per tag of each relation.
    pub fn joined(&self) -> String {
        join_relation_tag(&self.entity_id, &self.tag)
    }
}

/// `entity_id` and `tag` in one string (U+001F between: neither holds control characters).
pub fn join_relation_tag(entity_id: &str, tag: &str) -> String {
    format!("{entity_id}\u{1f}{tag}")
}

impl FileFilters {
    pub fn is_empty(&self) -> bool {
        *self == FileFilters::default()
    }

    /// Whether a listed file passes every filter.
    pub fn matches(&self, record: &FileRecord) -> bool {
        let size = listed_size(record);
        self.q
            .as_ref()
            .is_none_or(|q| record.filename.to_lowercase().contains(q.as_str()))
            && self
                .file_type
                .as_ref()
                .is_none_or(|t| file_type(&record.mime_type, &record.filename) == t)
            && self
                .mime_type
                .as_ref()
                .is_none_or(|m| m.matches(&record.mime_type))
            && self
                .tag
                .as_ref()
                .is_none_or(|t| tags_of(record).any(|tag| tag == t))
            && self
                .access_control
                .is_none_or(|a| record.access_control == a)
            && self
                .related_to
                .as_ref()
                .is_none_or(|id| related_ids_of(record).any(|r| r == id))
            && self
                .created_from
                .as_ref()
                .is_none_or(|from| record.created_at.as_str() >= from.as_str())
            && self
                .created_to
                .as_ref()
                .is_none_or(|to| record.created_at.as_str() < to.as_str())
            && self.size_min.is_none_or(|min| size >= min)
            && self
                .scan_status
                .is_none_or(|status| latest_scan(record) == status)
            && self.size_max.is_none_or(|max| size <= max)
            && self
                .relation_tag
                .as_ref()
                .is_none_or(|rt| relation_tags_of(record).any(|t| t == rt.joined()))
    }
}

/// Each tag of each relation of a file, joined with its entity ([`join_relation_tag`]).
pub fn relation_tags_of(record: &FileRecord) -> impl Iterator<Item = String> + '_ {
    list_attribute(record, "relations").flat_map(|r| {
        let id = r.get("entity_id").and_then(Value::as_str);
        r.get("_tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(move |tag| Some(join_relation_tag(id?, tag)))
    })
}

/// The items of a list attribute of a file (none when absent or not a list).
fn list_attribute<'r>(record: &'r FileRecord, name: &str) -> impl Iterator<Item = &'r Value> {
    record
        .attributes
        .get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A file's `_tags` (its string values).
pub fn tags_of(record: &FileRecord) -> impl Iterator<Item = &str> {
    list_attribute(record, "_tags").filter_map(Value::as_str)
}

/// The entity ids a file's `relations` name.
pub fn related_ids_of(record: &FileRecord) -> impl Iterator<Item = &str> {
    list_attribute(record, "relations").filter_map(|r| r.get("entity_id")?.as_str())
}

/// A listing: filters and order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileQuery {
    pub filters: FileFilters,
    pub sort: ListSort,
    pub order: SortOrder,
}

impl FileQuery {
    /// What a cursor is bound to: this query of this organisation. A cursor made for
    /// another query or organisation does not carry this digest.
    pub fn digest(&self, org: &str) -> [u8; 32] {
        let f = &self.filters;
        let mime = match &f.mime_type {
            Some(MimeFilter::Exact(m)) => format!("={m}"),
            Some(MimeFilter::AnyOf(m)) => format!("*{m}"),
            None => String::new(),
        };
        let parts = [
            org.to_owned(),
            self.sort.as_str().to_owned(),
            self.order.as_str().to_owned(),
            format!("{:?}", f.q),
            format!("{:?}", f.file_type),
            mime,
            format!("{:?}", f.tag),
            format!("{:?}", f.access_control.map(AccessControl::as_str)),
            format!("{:?}", f.related_to),
            format!("{:?}", f.created_from),
            format!("{:?}", f.created_to),
            format!("{:?}", f.size_min),
            format!("{:?}", f.size_max),
            format!("{:?}", f.relation_tag),
            format!("{:?}", f.scan_status.map(ScanStatus::as_str)),
        ];
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.finalize().into()
    }

    /// Whether `key` ([`ListSort::key_of`]) comes after `cursor` in this order.
    pub fn is_after(&self, key: &str, cursor: &str) -> bool {
        match self.order {
            SortOrder::Descending => key < cursor,
            SortOrder::Ascending => key > cursor,
        }
    }
}

/// The malware scan a listing filters on: its latest version's.
pub fn latest_scan(record: &FileRecord) -> ScanStatus {
    record
        .latest()
        .map_or(ScanStatus::NotScanned, |v| v.scan_status())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_combine_and_keys_sort_as_the_index_does() {
        let mut record = FileRecord {
            filename: "Übersicht Q3.PDF".into(),
            mime_type: "application/pdf".into(),
            created_at: "2026-01-02T00:00:00.000Z".into(),
            ..FileRecord::default()
        };
        record
            .attributes
            .insert("_tags".into(), json!(["invoice", 3]));
        record
            .attributes
            .insert("relations".into(), json!([{"entity_id": "e-1"}]));
        let mut filters = FileFilters {
            q: Some("übersicht q3".into()),
            tag: Some("invoice".into()),
            related_to: Some("e-1".into()),
            mime_type: Some(MimeFilter::AnyOf("application/".into())),
            created_from: Some("2026-01-02T00:00:00.000Z".into()),
            created_to: Some("2026-01-03T00:00:00.000Z".into()),
            size_max: Some(0),
            ..FileFilters::default()
        };
        assert!(filters.matches(&record));
        filters.created_to = Some("2026-01-02T00:00:00.000Z".into());
        assert!(!filters.matches(&record));
        assert!(ListSort::SizeBytes
            .key_of(&record)
            .starts_with("00000000000000000000#"));
        assert!(ListSort::Filename
            .key_of(&record)
            .starts_with("übersicht q3.pdf#"));
        let query = FileQuery::default();
        assert_ne!(query.digest("a"), query.digest("b"));
        assert_ne!(
            query.digest("a"),
            FileQuery {
                sort: ListSort::Filename,
                ..FileQuery::default()
            }
            .digest("a")
        );
    }
}
