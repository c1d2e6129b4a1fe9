//! (in progress) Documents with named containers.
