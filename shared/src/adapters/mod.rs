//! Implementations of the ports.

pub mod dynamodb;
pub mod memory;
pub mod s3;
mod sdk;
