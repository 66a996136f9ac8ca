//! Support library of qorgan's end-to-end tests: hostile plugin components
//! built from WAT ([`hostile`]), shared fixtures — the reference plugin
//! built for real, packs in temporary directories, the CLI ([`fixtures`]) —
//! the entry points of the fuzz targets and the smoke pass over them
//! ([`fuzzing`]), signed releases of the reference pack with a host to offer
//! them to ([`releases`]), a real PostgreSQL server ([`postgres`]), and `qorgan serve` as a process with an HTTP
//! client for it ([`service`]).

pub mod fixtures;
pub mod fuzzing;
pub mod hostile;
pub mod postgres;
pub mod releases;
pub mod service;
