//! DynamoDB stream events, as Lambda hands them to the sweep and events functions: as
//! much of each record as they read. Images stay in DynamoDB's JSON (`{"S": "..."}`).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamRecord {
    /// Unique per record, and the same when Lambda hands the record again.
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    /// INSERT, MODIFY or REMOVE.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    /// Set on removals by DynamoDB's TTL.
    #[serde(rename = "userIdentity", default)]
    pub user_identity: Option<UserIdentity>,
    #[serde(default)]
    pub dynamodb: StreamData,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UserIdentity {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(rename = "principalId", default)]
    pub principal_id: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamData {
    /// The item as it was (absent for an INSERT).
    #[serde(rename = "OldImage", default)]
    pub old_image: HashMap<String, Value>,
    /// The item as the write left it (absent for a REMOVE, and on an OLD_IMAGE stream).
    #[serde(rename = "NewImage", default)]
    pub new_image: HashMap<String, Value>,
    /// Increases with each write of the same item: its order.
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: String,
    /// When the write happened, in epoch seconds.
    #[serde(rename = "ApproximateCreationDateTime", default)]
    pub created_at_seconds: Option<f64>,
}

impl StreamRecord {
    /// Whether DynamoDB's TTL removed the item (rather than a call of ours).
    pub fn removed_by_ttl(&self) -> bool {
        self.event_name == "REMOVE"
            && self
                .user_identity
                .as_ref()
                .is_some_and(|u| u.kind == "Service" && u.principal_id == "dynamodb.amazonaws.com")
    }
}
