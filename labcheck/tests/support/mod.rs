//! Helpers shared by the integration tests.

pub mod porcupine_data;
