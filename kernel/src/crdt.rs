//! (in progress) The traits shared by all state CRDTs.
