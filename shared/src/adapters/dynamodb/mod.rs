//! The repositories on DynamoDB: one table, one item per file (versions as a list in
//! it) and one per unsaved upload, told apart by their partition key.

mod collections;
mod document;
mod files;
mod item;
mod links;
mod listing;
mod scan;
mod trash;
mod uploads;
mod webhooks;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use crate::ports::Quotas;

pub use item::{
    file_of_stream_image, file_pk, sort_index, stream_image_of_file, stream_image_of_upload,
    upload_of_stream_image, upload_pk, usage_pk, EXPIRY_INDEX, LIST_INDEX, TRASH_INDEX,
};

type Item = HashMap<String, AttributeValue>;

/// The table both repositories live in.
#[derive(Clone, Debug)]
struct Table {
    client: Client,
    name: String,
}

/// File entities (`FileRepository`).
#[derive(Clone, Debug)]
pub struct DynamoFiles {
    table: Table,
    quotas: Quotas,
}

/// Records of unsaved uploads (`UploadRecords`).
#[derive(Clone, Debug)]
pub struct DynamoUploads(Table);

impl DynamoFiles {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoFiles {
            table: Table {
                client,
                name: table.into(),
            },
            quotas: Quotas::default(),
        }
    }

    /// Files whose writes keep within `quotas`.
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }
}

impl DynamoUploads {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoUploads(Table {
            client,
            name: table.into(),
        })
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
