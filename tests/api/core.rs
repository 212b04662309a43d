//! The event-sourced core: store, relay, projections, read-your-writes.
