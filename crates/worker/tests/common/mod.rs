//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod outbox;
pub mod smtp_sink;
