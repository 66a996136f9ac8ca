//! The HTTP routes and their handlers.
//!
//! Handlers parse and check requests on the runtime's threads, hand the
//! transactions to the deciding thread and await the log's
//! acknowledgement; nothing here blocks a runtime thread. Every error is
//! JSON `{"error": "..."}` naming what was wrong and, for a limit, the
//! limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::decider::{DeciderClient, Item, Outcome, Reply};
use super::metrics::{Gauges, Metrics};
use super::shadow::Shadow;
use crate::audit::CommitStats;
use qorgan::engine::Engine;
use qorgan::source::Activator;
use qorgan::transaction::Transaction;

/// How the active pack got here, for `/v1/pack` and `/readyz`.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// An unsigned local pack, loaded as it is.
    Local {
        /// Its directory.
        dir: String,
        /// Its `issued_at`, if any.
        issued_at: Option<String>,
        /// Its `expires_at`, if any.
        expires_at: Option<String>,
    },
    /// Signed packs from a source, through the activator.
    Source {
        /// The source, as it names itself.
        name: String,
        /// The activator.
        activator: Arc<Activator>,
    },
}

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) decider: DeciderClient,
    pub(crate) engine: Engine,
    pub(crate) origin: Origin,
    pub(crate) metrics: Arc<Metrics>,
    /// The shadow candidate, when a shadow source is configured.
    pub(crate) shadow: Option<Arc<Shadow>>,
    pub(crate) log_stats: Arc<CommitStats>,
    pub(crate) log_path: String,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_batch: usize,
    pub(crate) max_pack_age: Option<Duration>,
    /// The resident memory the service is sized for, in bytes.
    pub(crate) memory_budget_bytes: Option<u64>,
    /// Whether the warning about the budget was logged (and not yet
    /// cleared by memory falling back below it).
    pub(crate) memory_warned: AtomicBool,
}

/// The process's resident memory in bytes (0 where `/proc` is absent).
pub(crate) fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages.saturating_mul(4096))
}

/// Why the service is degraded by memory, if it is: resident memory at 90%
/// of the budget or more. Logged once per crossing.
fn memory_pressure(shared: &Shared) -> Option<String> {
    let budget = shared.memory_budget_bytes?;
    let resident = resident_bytes();
    let pressed = resident.saturating_mul(10) >= budget.saturating_mul(9);
    let was = shared.memory_warned.swap(pressed, Ordering::Relaxed);
    if !pressed {
        return None;
    }
    let mib = |b: u64| b / (1024 * 1024);
    let reason = format!(
        "resident memory {} MiB is {}% of the memory budget of {} MiB (memory_budget_mib); history keeps {} keys and drops no event inside retention, so raise the budget or shorten the pack's retention",
        mib(resident),
        resident.saturating_mul(100) / budget.max(1),
        mib(budget),
        shared.engine.history().accounts()
    );
    if !was {
        tracing::warn!(%reason, "memory budget");
    }
    Some(reason)
}

type AppState = Arc<Shared>;

/// The service's router.
pub(crate) fn router(shared: AppState) -> Router {
    let limit = shared.max_body_bytes;
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/evaluate/batch", post(evaluate_batch))
        .route("/v1/pack", get(pack))
        .route("/v1/pack/shadow", get(shadow))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(
        status,
        serde_json::json!({ "error": message.into() }).to_string(),
    )
}

/// A request refused: the status and what to say.
struct Refused {
    status: StatusCode,
    message: String,
}

impl Refused {
    fn new(status: StatusCode, message: impl Into<String>) -> Refused {
        Refused {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

/// The body as text, or why it is refused.
fn body_text(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<String, Refused> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refused::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the limit of {} bytes (max_body_bytes)",
                    shared.max_body_bytes
                ),
            )
        } else {
            Refused::new(rejection.status(), rejection.body_text())
        }
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Refused::new(
            StatusCode::BAD_REQUEST,
            "the request body is not UTF-8 text",
        )
    })
}

/// The header that marks an answer as the original decision of a
/// transaction decided before (`true` on `/v1/evaluate`; on a batch, how
/// many of its items are repeats, each also carrying `"repeat": true`).
pub(crate) const REPEAT_HEADER: &str = "qorgan-repeat";

/// A repeat's decision as a batch item: the original, marked.
fn marked_repeat(decision: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(decision) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("repeat".into(), serde_json::Value::Bool(true));
            serde_json::Value::Object(object).to_string()
        }
        _ => decision.to_owned(),
    }
}

/// The outcomes of a reply, or why there are none.
fn unavailable(reply: Reply) -> Result<Vec<Outcome>, Refused> {
    match reply {
        Reply::Decided(outcomes) => Ok(outcomes),
        Reply::NoPack => Err(Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no pack is active yet: nothing can be decided",
        )),
        Reply::NotLogged(problem) => Err(Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the decision could not be logged, so it is not given: {problem}"),
        )),
    }
}

async fn evaluate(State(shared): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let text = match body_text(&shared, body) {
        Ok(text) => text,
        Err(refused) => return refused.into_response(),
    };
    let tx = match Transaction::from_json(&text) {
        Ok(tx) => tx,
        Err(e) => {
            shared.metrics.rejected(1);
            return error(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let item = Item {
        tx,
        raw: text.trim().to_owned(),
    };
    let outcomes = match unavailable(shared.decider.decide(vec![item]).await) {
        Ok(outcomes) => outcomes,
        Err(refused) => return refused.into_response(),
    };
    match outcomes.into_iter().next() {
        Some(Outcome::Decided(decision)) => json(StatusCode::OK, decision),
        Some(Outcome::Repeat(decision)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::HeaderName::from_static(REPEAT_HEADER), "true"),
            ],
            decision,
        )
            .into_response(),
        Some(Outcome::Conflict(problem)) => error(StatusCode::CONFLICT, problem),
        Some(Outcome::Refused(problem)) => error(StatusCode::UNPROCESSABLE_ENTITY, problem),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "no decision was made"),
    }
}

/// The form a batch came in, which its answer takes too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Array,
    Lines,
}

/// One batch item: its position (0-based index or 1-based line) and the
/// transaction, or why it was rejected.
type Parsed = (usize, Result<Item, String>);

fn parse_batch(text: &str) -> Result<(Form, Vec<Parsed>), String> {
    if text.trim_start().starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| format!("the body starts like a JSON array but is not one: {e}"))?;
        let items = values
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let item = Transaction::from_value(&value)
                    .map(|tx| Item {
                        tx,
                        raw: value.to_string(),
                    })
                    .map_err(|e| e.to_string());
                (index, item)
            })
            .collect();
        return Ok((Form::Array, items));
    }
    let items = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let item = Transaction::from_json(line)
                .map(|tx| Item {
                    tx,
                    raw: line.trim().to_owned(),
                })
                .map_err(|e| e.to_string());
            (index + 1, item)
        })
        .collect();
    Ok((Form::Lines, items))
}

async fn evaluate_batch(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let text = match body_text(&shared, body) {
        Ok(text) => text,
        Err(refused) => return refused.into_response(),
    };
    let (form, parsed) = match parse_batch(&text) {
        Ok(parsed) => parsed,
        Err(problem) => return error(StatusCode::BAD_REQUEST, problem),
    };
    if parsed.len() > shared.max_batch {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "the batch holds {} transactions, above the limit of {} (max_batch)",
                parsed.len(),
                shared.max_batch
            ),
        );
    }
    let mut positions = Vec::with_capacity(parsed.len());
    let mut items = Vec::with_capacity(parsed.len());
    for (position, item) in parsed {
        match item {
            Ok(item) => {
                positions.push((position, None));
                items.push(item);
            }
            Err(problem) => positions.push((position, Some(problem))),
        }
    }
    let rejected = positions.len() - items.len();
    if rejected > 0 {
        shared.metrics.rejected(rejected as u64);
    }
    let outcomes = if items.is_empty() {
        Vec::new()
    } else {
        match unavailable(shared.decider.decide(items).await) {
            Ok(outcomes) => outcomes,
            Err(refused) => return refused.into_response(),
        }
    };
    let mut outcomes = outcomes.into_iter();
    let key = if form == Form::Array { "index" } else { "line" };
    let mut repeats = 0usize;
    let rendered: Vec<String> = positions
        .into_iter()
        .map(|(position, problem)| {
            let outcome = match problem {
                Some(problem) => Outcome::Refused(problem),
                None => outcomes
                    .next()
                    .unwrap_or_else(|| Outcome::Refused("no decision was made".to_owned())),
            };
            match outcome {
                Outcome::Decided(decision) => decision,
                Outcome::Repeat(decision) => {
                    repeats += 1;
                    marked_repeat(&decision)
                }
                Outcome::Conflict(problem) | Outcome::Refused(problem) => {
                    serde_json::json!({ key: position, "error": problem }).to_string()
                }
            }
        })
        .collect();
    let (content_type, body) = match form {
        Form::Array => ("application/json", format!("[{}]", rendered.join(","))),
        Form::Lines => {
            let mut body = rendered.join("\n");
            body.push('\n');
            ("application/x-ndjson", body)
        }
    };
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if repeats > 0
        && let Ok(value) = header::HeaderValue::from_str(&repeats.to_string())
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(REPEAT_HEADER), value);
    }
    response
}

async fn pack(State(shared): State<AppState>) -> Response {
    let active = shared.engine.active().map(|p| p.info().clone());
    let body = match &shared.origin {
        Origin::Local {
            dir,
            issued_at,
            expires_at,
        } => serde_json::json!({
            "active": active,
            "source": {"kind": "local", "location": dir, "signed": false},
            "issued_at": issued_at,
            "expires_at": expires_at,
            "last_refusal": null,
            "status": null,
            "decision_log": shared.log_path,
        }),
        Origin::Source { name, activator } => {
            let status = activator.status();
            serde_json::json!({
                "active": active,
                "source": {"kind": "signed", "location": name, "signed": true,
                           "required_signatures": activator.trust().required()},
                "issued_at": status.active.as_ref().and_then(|a| a.issued_at.clone()),
                "expires_at": status.active.as_ref().and_then(|a| a.expires_at.clone()),
                "last_refusal": status.last_refusal,
                "status": status,
                "decision_log": shared.log_path,
            })
        }
    };
    json(StatusCode::OK, body.to_string())
}

/// The shadow candidate and what it would change (`serve/shadow.rs`).
async fn shadow(State(shared): State<AppState>) -> Response {
    match &shared.shadow {
        Some(shadow) => json(StatusCode::OK, shadow.summary().to_string()),
        None => error(
            StatusCode::NOT_FOUND,
            "no shadow pack source is configured (--shadow-source)",
        ),
    }
}

/// Alive, and which plugins were quarantined on a batch since start (a
/// quarantined plugin gave `PLUGIN_FAILED` for the rest of that batch): the
/// service keeps deciding, fail closed, but an operator should know.
async fn healthz(State(shared): State<AppState>) -> Response {
    let quarantines: serde_json::Map<String, serde_json::Value> = shared
        .metrics
        .quarantines()
        .into_iter()
        .map(|(plugin, (batches, transactions))| {
            (
                plugin,
                serde_json::json!({"batches": batches, "transactions": transactions}),
            )
        })
        .collect();
    let status = if quarantines.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    json(
        StatusCode::OK,
        serde_json::json!({"status": status, "quarantined": quarantines}).to_string(),
    )
}

/// Why the service is not ready, if it is not.
fn not_ready(shared: &Shared) -> Option<String> {
    if let Some(problem) = shared.log_stats.failing() {
        return Some(format!(
            "the decision log {} cannot be written, so no decision can be acknowledged: {problem}",
            shared.log_path
        ));
    }
    let Some(active) = shared.engine.active() else {
        return Some("no pack is active".into());
    };
    let (issued_at, expires_at) = match &shared.origin {
        Origin::Local {
            issued_at,
            expires_at,
            ..
        } => (issued_at.clone(), expires_at.clone()),
        Origin::Source { activator, .. } => match activator.active() {
            Some(a) => (a.issued_at, a.expires_at),
            None => (None, None),
        },
    };
    let now = OffsetDateTime::now_utc();
    if let Some(expires) = expires_at.as_deref()
        && OffsetDateTime::parse(expires, &Rfc3339).is_ok_and(|t| t <= now)
    {
        return Some(format!(
            "the active pack (serial {}) expired at {expires}",
            active.info().serial
        ));
    }
    if let Some(max_age) = shared.max_pack_age {
        let issued = issued_at
            .as_deref()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
        match issued {
            None => {
                return Some(format!(
                    "the active pack (serial {}) has no issued_at, and a maximum age of {}s is set",
                    active.info().serial,
                    max_age.as_secs()
                ));
            }
            Some(issued) => {
                let age = (now - issued).whole_seconds();
                if age > i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX) {
                    return Some(format!(
                        "the active pack (serial {}) was issued {age}s ago, older than the maximum of {}s (max_pack_age_secs)",
                        active.info().serial,
                        max_age.as_secs()
                    ));
                }
            }
        }
    }
    None
}

async fn readyz(State(shared): State<AppState>) -> Response {
    match not_ready(&shared) {
        None => {
            let serial = shared.engine.active().map(|p| p.info().serial);
            let body = match memory_pressure(&shared) {
                None => serde_json::json!({"status": "ready", "serial": serial}),
                Some(reason) => {
                    serde_json::json!({"status": "degraded", "serial": serial, "reason": reason})
                }
            };
            json(StatusCode::OK, body.to_string())
        }
        Some(reason) => error(StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

async fn metrics(State(shared): State<AppState>) -> Response {
    let (activations, refused) = match &shared.origin {
        Origin::Local { .. } => (0, 0),
        Origin::Source { activator, .. } => {
            let status = activator.status();
            (status.activations, status.refusals)
        }
    };
    let gauges = Gauges {
        active_serial: shared.engine.active().map(|p| p.info().serial),
        activations,
        refused,
        log_commits: shared.log_stats.groups(),
        log_rows: shared.log_stats.rows(),
        log_largest_group: shared.log_stats.largest_group(),
        log_failures: shared.log_stats.failures(),
        log_failing: shared.log_stats.failing().is_some(),
        resident_bytes: resident_bytes(),
        memory_budget_bytes: shared.memory_budget_bytes,
        history_keys: shared.engine.history().accounts() as u64,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        match &shared.shadow {
            Some(shadow) => shared.metrics.render(&gauges) + &shadow.render(),
            None => shared.metrics.render(&gauges),
        },
    )
        .into_response()
}

async fn openapi() -> Response {
    json(StatusCode::OK, super::openapi::document().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TX: &str = r#"{"id":"t1","timestamp":"2025-03-01T10:15:00Z","kind":"transfer","amount":"1.00","currency":"KZT","sender":{"account":"A"},"recipient":{"account":"B"}}"#;

    #[test]
    fn an_array_batch_names_bad_items_by_index() {
        let body = format!("[{TX}, {{\"id\":\"t2\"}}, {TX}]");
        let (form, items) = match parse_batch(&body) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        };
        assert!(form == Form::Array);
        let positions: Vec<(usize, bool)> = items.iter().map(|(p, i)| (*p, i.is_ok())).collect();
        assert_eq!(positions, vec![(0, true), (1, false), (2, true)]);
    }

    #[test]
    fn json_lines_skip_blank_lines_and_name_bad_ones_by_line() {
        let body = format!("{TX}\n\nnot json\n{TX}\n");
        let (form, items) = match parse_batch(&body) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        };
        assert!(form == Form::Lines);
        let positions: Vec<(usize, bool)> = items.iter().map(|(p, i)| (*p, i.is_ok())).collect();
        assert_eq!(positions, vec![(1, true), (3, false), (4, true)]);
    }

    #[test]
    fn a_broken_array_is_refused_whole() {
        assert!(parse_batch("[{\"id\":").is_err());
    }
}
