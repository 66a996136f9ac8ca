//! Support library of qorgan's end-to-end tests: hostile plugin components
//! built from WAT ([`hostile`]) and shared fixtures — the reference plugin
//! built for real, packs in temporary directories, the CLI ([`fixtures`]).

pub mod fixtures;
pub mod hostile;
