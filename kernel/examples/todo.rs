//! Collaborative todo list example (in progress).

fn main() {}
