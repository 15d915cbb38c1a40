//! Implementations of the ports.

pub mod dynamodb;
pub mod eventbridge;
pub mod memory;
pub mod s3;
mod sdk;
pub mod sqs;
