//! The HTTP routes and their handlers.
//!
//! Handlers parse and check requests on the runtime's threads, hand the
//! transactions to the deciding pipeline and await the log's
//! acknowledgement; nothing here blocks a runtime thread. Every error is
//! JSON `{"error": "..."}` naming what was wrong and, for a limit, the
//! limit; an unknown route (404) and a wrong method (405) too.
//!
//! Inputs are checked in this order, each before anything is decided: the
//! credential (`auth.rs`, 401/403), the content type (415: a `text/plain`
//! form post from a web page is not a transaction), the declared length
//! (413, answered before the body is read, so a client waiting on
//! `Expect: 100-continue` is not told to send it), the body within
//! `body_read_timeout` (408), then the JSON, which must not repeat a key
//! (400 naming it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::{Authority, Guard, Role, require};
use super::decider::{DeciderClient, Item, Outcome, Reply};
use super::metrics::{Gauges, Metrics};
use super::shadow::Shadow;
use crate::audit::CommitStats;
use qorgan::engine::Engine;
use qorgan::jsonl::LineError;
use qorgan::source::Activator;
use qorgan::transaction::{Transaction, parse_json};

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
    /// How long a request body may take to arrive.
    pub(crate) body_read_timeout: Duration,
    /// Connections open now (kept by the listener).
    pub(crate) connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Whether routes need a credential (documented in `/openapi.json`).
    pub(crate) authenticates: bool,
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

/// The service's router: the deciding routes need the `decide` role, the
/// operating ones `operate`, health, readiness and the document none.
pub(crate) fn router(shared: AppState, authority: Arc<Authority>) -> Router {
    let guard = |role| Guard {
        authority: Arc::clone(&authority),
        role,
    };
    let deciding = Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/evaluate/batch", post(evaluate_batch))
        .route_layer(axum::middleware::from_fn_with_state(
            guard(Role::Decide),
            require,
        ));
    let operating = Router::new()
        .route("/v1/pack", get(pack))
        .route("/v1/pack/shadow", get(shadow))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            guard(Role::Operate),
            require,
        ));
    Router::new()
        .merge(deciding)
        .merge(operating)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

async fn not_found(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no route {method} {}; the routes are listed in /openapi.json",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not allowed on {} (the Allow header names what is)",
            uri.path()
        ),
    )
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An error response: `{"error": message}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
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

/// The JSON media type.
const JSON: &str = "application/json";
/// The JSON Lines media type.
const NDJSON: &str = "application/x-ndjson";

/// The request's media type, lower case, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// The body, once its media type is one of `accepted` and its length
/// within the limit, read within the body timeout; with its media type.
async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    accepted: &[&'static str],
) -> Result<(Bytes, &'static str), Refused> {
    let media = media_type(headers);
    let Some(media) = accepted
        .iter()
        .find(|a| media.as_deref() == Some(**a))
        .copied()
    else {
        return Err(Refused::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the request's Content-Type is {}; this route takes {}",
                media.map_or_else(|| "missing".to_owned(), |m| format!("`{m}`")),
                accepted.join(" or ")
            ),
        ));
    };
    let too_large = || {
        Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than the limit of {} bytes (max_body_bytes)",
                shared.max_body_bytes
            ),
        )
    };
    // Refused on the declared length before the body is polled: hyper
    // sends `100 Continue` only when a handler reads the body.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > shared.max_body_bytes as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = body;
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                Refused::new(
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > shared.max_body_bytes {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(bytes))
    };
    match tokio::time::timeout(shared.body_read_timeout, read).await {
        Ok(result) => result.map(|bytes| (bytes, media)),
        Err(_) => Err(Refused::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms (body_read_timeout_ms)",
                shared.body_read_timeout.as_millis()
            ),
        )),
    }
}

/// The body as UTF-8 text, or why it is refused.
fn utf8(bytes: &Bytes) -> Result<&str, Refused> {
    std::str::from_utf8(bytes).map_err(|_| {
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

async fn evaluate(State(shared): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&shared, &headers, body, &[JSON]).await {
        Ok((bytes, _)) => bytes,
        Err(refused) => return refused.into_response(),
    };
    let text = match utf8(&bytes) {
        Ok(text) => text,
        Err(refused) => return refused.into_response(),
    };
    let tx = match Transaction::from_json(text) {
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
        Some(Outcome::Pending(problem)) => error(StatusCode::SERVICE_UNAVAILABLE, problem),
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

/// A batch's items. JSON Lines (`application/x-ndjson`) are split into
/// lines first, so that a line that is not UTF-8 fails alone, as in
/// `qorgan eval`; an `application/json` body must be an array, JSON as a
/// whole, and may not repeat a key in any object.
fn parse_batch(body: &[u8], media: &str) -> Result<(Form, Vec<Parsed>), String> {
    let starts_array = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[');
    if media == JSON && !starts_array {
        return Err(
            "an application/json batch is a JSON array of transactions; send JSON Lines as application/x-ndjson"
                .into(),
        );
    }
    if media == JSON {
        let text = std::str::from_utf8(body)
            .map_err(|_| "the request body is not UTF-8 text".to_owned())?;
        let value = parse_json(text)
            .map_err(|e| format!("the body starts like a JSON array but is not one: {e}"))?;
        let serde_json::Value::Array(values) = value else {
            return Err("the body starts like a JSON array but is not one".into());
        };
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
    let items = body
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| {
            let item = std::str::from_utf8(line)
                .map_err(|_| LineError::NotText.to_string())
                .and_then(|line| {
                    Transaction::from_json(line)
                        .map(|tx| Item {
                            tx,
                            raw: line.trim().to_owned(),
                        })
                        .map_err(|e| e.to_string())
                });
            (index + 1, item)
        })
        .collect();
    Ok((Form::Lines, items))
}

async fn evaluate_batch(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (bytes, media) = match read_body(&shared, &headers, body, &[JSON, NDJSON]).await {
        Ok(read) => read,
        Err(refused) => return refused.into_response(),
    };
    let (form, parsed) = match parse_batch(&bytes, media) {
        Ok(parsed) => parsed,
        Err(problem) => return error(StatusCode::BAD_REQUEST, problem),
    };
    if parsed.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "the batch holds no transactions: send a JSON array of transactions, or JSON Lines (application/x-ndjson), one transaction per line",
        );
    }
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
                Outcome::Conflict(problem)
                | Outcome::Refused(problem)
                | Outcome::Pending(problem) => {
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
        connections_open: shared.connections.load(Ordering::Relaxed) as u64,
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

/// The document, with the active pack's currencies and the limits in
/// force, so that what it calls valid is what is decided.
async fn openapi(State(shared): State<AppState>) -> Response {
    let currencies = shared
        .engine
        .active()
        .map(|pack| pack.currencies())
        .unwrap_or_default();
    let context = super::openapi::Context {
        currencies,
        max_batch: shared.max_batch,
        authenticates: shared.authenticates,
    };
    json(
        StatusCode::OK,
        super::openapi::document(&context).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TX: &str = r#"{"id":"t1","timestamp":"2025-03-01T10:15:00Z","kind":"transfer","amount":"1.00","currency":"KZT","sender":{"account":"A"},"recipient":{"account":"B"}}"#;

    #[test]
    fn an_array_batch_names_bad_items_by_index() {
        let body = format!("[{TX}, {{\"id\":\"t2\"}}, {TX}]");
        let (form, items) = match parse_batch(body.as_bytes(), JSON) {
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
        let (form, items) = match parse_batch(body.as_bytes(), NDJSON) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        };
        assert!(form == Form::Lines);
        let positions: Vec<(usize, bool)> = items.iter().map(|(p, i)| (*p, i.is_ok())).collect();
        assert_eq!(positions, vec![(1, true), (3, false), (4, true)]);
    }

    #[test]
    fn a_broken_array_is_refused_whole() {
        assert!(parse_batch(b"[{\"id\":", JSON).is_err());
    }

    #[test]
    fn a_line_that_is_not_utf8_fails_alone() {
        let mut body = format!("{TX}\n").into_bytes();
        body.extend_from_slice(b"{\"id\":\"\xff\xfe\"}\n");
        body.extend_from_slice(format!("{TX}\n").as_bytes());
        let (_, items) = match parse_batch(&body, NDJSON) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        };
        let positions: Vec<(usize, bool)> = items.iter().map(|(p, i)| (*p, i.is_ok())).collect();
        assert_eq!(positions, vec![(1, true), (2, false), (3, true)]);
        assert!(matches!(&items[1].1, Err(e) if e.contains("UTF-8")));
    }

    #[test]
    fn a_repeated_key_in_a_line_names_it() {
        let line = TX.replace(
            r#""currency":"KZT","#,
            r#""currency":"KZT","amount":"9.00","#,
        );
        let (_, items) = match parse_batch(line.as_bytes(), NDJSON) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{e}"),
        };
        assert!(matches!(&items[0].1, Err(e) if e.contains("duplicate key `amount`")));
    }
}
