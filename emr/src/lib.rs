//! Amazon EMR and S3 for mapfold: clusters that end themselves, uploads that
//! skip what is already there and verify what they send, streaming steps
//! waited on with backoff, and failures diagnosed from the task's own
//! stderr.
//!
//! Everything speaks through the official AWS SDK for Rust; credentials and
//! region come from the standard chain, and `--endpoint-url` (or
//! `AWS_ENDPOINT_URL`) points both services at a compatible endpoint. No
//! secret is ever formatted into a message.

pub mod aws;
pub mod cluster;
pub mod diagnose;
pub mod dryrun;
pub mod step;
pub mod upload;

pub use aws::{Aws, AwsOpts, S3Url};
