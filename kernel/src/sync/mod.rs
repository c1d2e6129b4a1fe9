//! (in progress) Updates, version diffs, causal buffering.
