//! Public links on DynamoDB: a map in the file's own item, so an access is one read of
//! the file and a delete of the file ends its links at once. Links change by plain
//! UpdateItem: they are not part of the usage the transactions keep.

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::item::{file_key, is_hidden, link_to_item, DELETED_AT, DELETING, LINKS};
use super::{n, s, DynamoFiles};
use crate::adapters::sdk::{is_condition_failed, sdk_error};
use crate::domain::{PublicLink, MAX_PUBLIC_LINKS};
use crate::ports::{Clash, Missing, StorageError, StoreResult as Result};

/// How often an add is tried again after the file turned out otherwise than assumed.
const LINK_ATTEMPTS: usize = 4;

impl DynamoFiles {
    pub(super) async fn add_public_link(
        &self,
        id: Uuid,
        org: &str,
        link: &PublicLink,
    ) -> Result<()> {
        for _ in 0..LINK_ATTEMPTS {
            // The common case first: the file has its map of links, with room.
            let added = self
                .table
                .client
                .update_item()
                .table_name(&self.table.name)
                .set_key(Some(file_key(id)))
                .update_expression("SET #links.#id = :link")
                .condition_expression(
                    "attribute_exists(pk) AND #org = :org AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed) \
                     AND attribute_exists(#links) AND size(#links) < :max",
                )
                .expression_attribute_names("#links", LINKS)
                .expression_attribute_names("#id", &link.id)
                .expression_attribute_names("#org", "org")
                .expression_attribute_names("#deleting", DELETING)
                .expression_attribute_names("#trashed", DELETED_AT)
                .expression_attribute_values(":link", link_to_item(link))
                .expression_attribute_values(":org", s(org))
                .expression_attribute_values(":max", n(MAX_PUBLIC_LINKS))
                .send()
                .await;
            match added {
                Ok(_) => return Ok(()),
                Err(e) if is_condition_failed(&e) => {}
                Err(e) => return Err(sdk_error("UpdateItem", e)),
            }
            let item = match self.raw(id).await? {
                Some(item) if !is_hidden(&item) && super::files::owned_by(&item, org) => item,
                _ => return Err(StorageError::NotFound(Missing::File(id))),
            };
            match item.get(LINKS).and_then(|l| l.as_m().ok()) {
                Some(links) if links.len() >= MAX_PUBLIC_LINKS => {
                    return Err(StorageError::Conflict(Clash::TooManyLinks))
                }
                Some(_) => continue,
                // An item written before links existed: its map, with this link in it.
                None => {
                    let created = self
                        .table
                        .client
                        .update_item()
                        .table_name(&self.table.name)
                        .set_key(Some(file_key(id)))
                        .update_expression("SET #links = :links")
                        .condition_expression(
                            "attribute_exists(pk) AND #org = :org \
                             AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed) AND attribute_not_exists(#links)",
                        )
                        .expression_attribute_names("#links", LINKS)
                        .expression_attribute_names("#org", "org")
                        .expression_attribute_names("#deleting", DELETING)
                        .expression_attribute_names("#trashed", DELETED_AT)
                        .expression_attribute_values(
                            ":links",
                            AttributeValue::M([(link.id.clone(), link_to_item(link))].into()),
                        )
                        .expression_attribute_values(":org", s(org))
                        .send()
                        .await;
                    match created {
                        Ok(_) => return Ok(()),
                        Err(e) if is_condition_failed(&e) => continue,
                        Err(e) => return Err(sdk_error("UpdateItem", e)),
                    }
                }
            }
        }
        Err(StorageError::unavailable(
            "UpdateItem",
            "the file kept changing while a link was added; retry",
        ))
    }

    pub(super) async fn remove_public_link(
        &self,
        id: Uuid,
        org: &str,
        link_id: &str,
    ) -> Result<()> {
        let removed = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .update_expression("REMOVE #links.#id")
            .condition_expression(
                "attribute_exists(#links.#id) AND #org = :org AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed)",
            )
            .expression_attribute_names("#links", LINKS)
            .expression_attribute_names("#id", link_id)
            .expression_attribute_names("#org", "org")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#trashed", DELETED_AT)
            .expression_attribute_values(":org", s(org))
            .send()
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(StorageError::NotFound(Missing::PublicLink)),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    pub(super) async fn touch_public_link(&self, id: Uuid, link_id: &str, at: &str) -> Result<()> {
        let touched = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(file_key(id)))
            .update_expression("SET #links.#id.#at = :at")
            .condition_expression(
                "attribute_exists(#links.#id) AND attribute_not_exists(#deleting) AND attribute_not_exists(#trashed)",
            )
            .expression_attribute_names("#links", LINKS)
            .expression_attribute_names("#id", link_id)
            .expression_attribute_names("#at", "last_accessed_at")
            .expression_attribute_names("#deleting", DELETING)
            .expression_attribute_names("#trashed", DELETED_AT)
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        match touched {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }
}
