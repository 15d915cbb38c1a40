//! The repositories on DynamoDB: one table, one item per file (versions as a list in
//! it) and one per unsaved upload, told apart by their partition key.

mod files;
mod item;
mod uploads;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

pub use item::{file_pk, upload_pk, LIST_INDEX};

type Item = HashMap<String, AttributeValue>;

/// The table both repositories live in.
#[derive(Clone, Debug)]
struct Table {
    client: Client,
    name: String,
}

/// File entities (`FileRepository`).
#[derive(Clone, Debug)]
pub struct DynamoFiles(Table);

/// Records of unsaved uploads (`UploadRecords`).
#[derive(Clone, Debug)]
pub struct DynamoUploads(Table);

impl DynamoFiles {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoFiles(Table {
            client,
            name: table.into(),
        })
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
