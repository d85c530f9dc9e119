//! Examples and cross-adapter tests of flowtriq-webhook.
