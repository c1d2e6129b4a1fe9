//! Seeded network simulator for documents.
