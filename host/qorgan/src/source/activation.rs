//! The activation pipeline: every check a candidate pack passes before it
//! decides a single payment, in order.
//!
//! 1. **Private copy.** An archive is extracted, a directory copied, into a
//!    fresh temporary directory only this process writes, refusing unsafe
//!    entries and anything past the extraction limits. Every later step
//!    reads this copy, so what was verified is what is loaded.
//! 2. **Signatures** ([`TrustConfig::verify`]): M of N trusted keys, no
//!    revoked key, every file as `pack.toml` records and as signed.
//! 3. **The pack** ([`Pack::read_at`] at the clock's time): the manifest, its
//!    bounds, the digests again, expiry and the minimum host version.
//! 4. **Serial**: strictly above the active pack's, or the last persisted
//!    one's; equal or lower is a rollback. The pack already active is
//!    reported as such, not as a fault.
//! 5. **Issue time**: not later than now (within a tolerance for clock
//!    skew).
//! 6. **Compile** ([`Engine::prepare`]): every plugin compiled, linked,
//!    described and configured; the running engine is untouched.
//! 7. **Own tests**: every test case the pack carries, run on this host
//!    against the very prepared pack that would go live. All must pass, and
//!    a pack without cases is refused: it proves nothing about what it
//!    decides here. The cases run on the activator's engine, each in its
//!    own history, so the engine needs room for one more set of plugin
//!    instances than its deciding threads use.
//! 8. **Persist**: the verified copy is written into the state directory
//!    and recorded as active. A pack that cannot be persisted is not
//!    activated, so a restart always restores what was running.
//! 9. **Swap** ([`Engine::activate`]): atomic; batches in flight finish on
//!    the old pack.
//!
//! Any refusal leaves the active pack deciding; it is logged (`warn`),
//! returned as a typed [`Refusal`] and kept in [`Status`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Source;
use super::candidate::Candidate;
use super::clock::{Clock, SystemClock};
use super::errors::{Refusal, RefusalReason, SourceError};
use super::status::{ActivePack, RefusalRecord, SourceProblem, Status};
use super::store::{Record, Store};
use crate::engine::{Engine, PreparedPack};
use crate::harness::{CaseResult, Harness, RunOptions};
use crate::pack::archive::{self, ExtractLimits};
use crate::pack::{Pack, PackError, TrustConfig};

/// How far in the future a pack's `issued_at` may be on this host's clock:
/// clocks of regulator and bank differ by a little.
const DEFAULT_ISSUE_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(300);
/// How many mismatches of the first failing case a refusal quotes.
const QUOTED_MISMATCHES: usize = 3;

/// Builds an [`Activator`].
pub struct ActivatorBuilder {
    engine: Engine,
    trust: TrustConfig,
    state_dir: PathBuf,
    clock: Arc<dyn Clock>,
    limits: ExtractLimits,
    issue_tolerance: std::time::Duration,
}

impl std::fmt::Debug for ActivatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivatorBuilder")
            .field("state_dir", &self.state_dir)
            .field("limits", &self.limits)
            .field("issue_tolerance", &self.issue_tolerance)
            .finish_non_exhaustive()
    }
}

impl ActivatorBuilder {
    /// Judges expiry and issue times by `clock`, and stamps activations and
    /// refusals with it (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The caps on a candidate's size (default: [`ExtractLimits::default`]).
    pub fn extract_limits(mut self, limits: ExtractLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How far in this host's future a pack's `issued_at` may be (default
    /// five minutes).
    pub fn issue_tolerance(mut self, tolerance: std::time::Duration) -> Self {
        self.issue_tolerance = tolerance;
        self
    }

    /// Opens the state directory (creating it) and reads which pack was
    /// last persisted: its serial is the floor for candidates, whether or
    /// not [`Activator::restore`] is called. An unreadable record sets no
    /// floor; `restore` reports it.
    pub fn build(self) -> Result<Activator, SourceError> {
        let store = Store::open(&self.state_dir)?;
        let floor = match store.read() {
            Ok(record) => record.map(|r| r.pack.serial),
            Err(reason) => {
                log::warn!(
                    "the persisted pack's record is unreadable: state={} reason={reason}",
                    self.state_dir.display()
                );
                None
            }
        };
        let issue_tolerance =
            time::Duration::try_from(self.issue_tolerance).unwrap_or(time::Duration::MAX);
        Ok(Activator {
            engine: self.engine,
            trust: self.trust,
            store,
            clock: self.clock,
            limits: self.limits,
            issue_tolerance,
            pipeline: Mutex::new(()),
            state: Mutex::new(State {
                floor,
                ..State::default()
            }),
        })
    }
}

/// What the activator knows between calls.
#[derive(Debug, Default)]
struct State {
    active: Option<ActivePack>,
    floor: Option<u64>,
    last_check: Option<OffsetDateTime>,
    last_refusal: Option<RefusalRecord>,
    last_source_problem: Option<SourceProblem>,
    activations: u64,
    refusals: u64,
}

/// A pack that passed every check and is now deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    /// The pack now active.
    pub pack: ActivePack,
    /// The pack it replaced, if the activator had activated one.
    pub previous: Option<ActivePack>,
}

/// Whether a candidate is offered or restored from the state directory.
enum Mode<'r> {
    Offer,
    Restore(&'r Record),
}

/// Activates packs on an [`Engine`] only when they are safe: see the
/// module documentation for the checks, in order. Safe to share between
/// threads; offers are handled one at a time.
///
/// ```ignore
/// let activator = Activator::builder(engine.clone(), trust, "/var/lib/qorgan").build()?;
/// activator.restore()?;                        // the pack persisted before the restart
/// activator.offer(Candidate::from_path("inbox/kz-afm-2025.3.1.qpack"))?;
/// println!("{}", activator.status().to_json());
/// ```
pub struct Activator {
    engine: Engine,
    trust: TrustConfig,
    store: Store,
    clock: Arc<dyn Clock>,
    limits: ExtractLimits,
    issue_tolerance: time::Duration,
    /// Held for a whole offer or restore, so that the serial check and the
    /// swap cannot interleave with another offer's.
    pipeline: Mutex<()>,
    /// Held briefly; never while a pack compiles or its cases run.
    state: Mutex<State>,
}

impl std::fmt::Debug for Activator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activator")
            .field("state_dir", &self.store.root())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Activator {
    /// Starts an activator for `engine`, trusting `trust`, persisting the
    /// active pack in `state_dir`.
    pub fn builder(
        engine: Engine,
        trust: TrustConfig,
        state_dir: impl Into<PathBuf>,
    ) -> ActivatorBuilder {
        ActivatorBuilder {
            engine,
            trust,
            state_dir: state_dir.into(),
            clock: Arc::new(SystemClock),
            limits: ExtractLimits::default(),
            issue_tolerance: DEFAULT_ISSUE_TOLERANCE,
        }
    }

    /// The engine packs are activated on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The trust packs are verified against.
    pub fn trust(&self) -> &TrustConfig {
        &self.trust
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        self.store.root()
    }

    /// The directory in the state directory holding the verified copy of
    /// the last persisted pack, if there is one: the files that decide, for
    /// a decision log that keeps each deciding pack.
    pub fn persisted_dir(&self) -> Option<PathBuf> {
        let record = self.store.read().ok().flatten()?;
        self.store.pack_dir(&record).ok()
    }

    /// The pack this activator made active, if any.
    pub fn active(&self) -> Option<ActivePack> {
        self.state().active.clone()
    }

    /// Runs `candidate` through every check and, if it passes them all,
    /// persists it and makes it the engine's active pack. On refusal the
    /// active pack keeps deciding.
    pub fn offer(&self, candidate: Candidate) -> Result<Activated, Refusal> {
        let _pipeline = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        self.state().last_check = Some(now);
        self.run(&candidate, Mode::Offer, now)
            .map_err(|reason| self.refuse(candidate.to_string(), reason, now))
    }

    /// Brings back the pack persisted in the state directory, without the
    /// network, at start-up: its signatures, digests, expiry, host version
    /// and own test cases are checked again (its serial is not compared
    /// with itself), and it must be the very pack the record names. A
    /// missing state is `Ok(None)`; a corrupt or tampered one is refused
    /// and the engine is left without a pack rather than with a bad one.
    pub fn restore(&self) -> Result<Option<Activated>, Refusal> {
        let _pipeline = self.pipeline.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        let described = format!("persisted pack in {}", self.store.root().display());
        let record = match self.store.read() {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(reason) => return Err(self.refuse(described, reason, now)),
        };
        let dir = match self.store.pack_dir(&record) {
            Ok(dir) => dir,
            Err(reason) => return Err(self.refuse(described, reason, now)),
        };
        let candidate = Candidate::Dir(dir);
        self.run(&candidate, Mode::Restore(&record), now)
            .map(Some)
            .map_err(|reason| self.refuse(format!("{described} ({candidate})"), reason, now))
    }

    /// Polls `source` once and offers each candidate it returns, in order.
    /// A candidate refused for a reason that may pass (a file still being
    /// written, a pack issued in a minute) is handed back to the source to
    /// be offered again.
    pub fn poll(
        &self,
        source: &mut dyn Source,
    ) -> Result<Vec<Result<Activated, Refusal>>, SourceError> {
        let now = self.clock.now();
        self.state().last_check = Some(now);
        let candidates = match source.poll() {
            Ok(candidates) => candidates,
            Err(error) => {
                log::warn!(
                    "cannot poll the pack source: source={} error={error}",
                    source.name()
                );
                self.state().last_source_problem = Some(SourceProblem {
                    at: now,
                    source: source.name(),
                    error: error.to_string(),
                });
                return Err(error);
            }
        };
        let mut outcomes = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let outcome = self.offer(candidate.clone());
            if let Err(refusal) = &outcome
                && refusal.reason.is_transient()
            {
                source.retry_later(&candidate);
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// What is active, since when, and what was last refused.
    pub fn status(&self) -> Status {
        let now = self.clock.now();
        let state = self.state();
        Status {
            active_age_secs: state
                .active
                .as_ref()
                .map(|a| (now - a.activated_at).whole_seconds()),
            active: state.active.clone(),
            serial_floor: self.floor(&state),
            last_check: state.last_check,
            last_refusal: state.last_refusal.clone(),
            last_source_problem: state.last_source_problem.clone(),
            activations: state.activations,
            refusals: state.refusals,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The serial a candidate must exceed: the highest of the last
    /// persisted or activated pack's and the engine's active pack's.
    fn floor(&self, state: &State) -> Option<u64> {
        let engine = self.engine.active().map(|p| p.info().serial);
        state.floor.max(engine)
    }

    /// Records and logs a refusal.
    fn refuse(&self, candidate: String, reason: RefusalReason, at: OffsetDateTime) -> Refusal {
        let refusal = Refusal {
            candidate,
            reason: Box::new(reason),
            at,
        };
        if let RefusalReason::AlreadyActive { serial } = *refusal.reason {
            log::debug!(
                "the offered pack is already active: candidate={} serial={serial}",
                refusal.candidate
            );
            return refusal;
        }
        log::warn!(
            "pack refused; the active pack keeps deciding: candidate={} kind={} reason={}",
            refusal.candidate,
            refusal.reason.kind(),
            refusal.reason
        );
        let mut state = self.state();
        state.last_refusal = Some(RefusalRecord::from(&refusal));
        state.refusals += 1;
        refusal
    }

    /// The pipeline (module documentation), steps 1 to 9.
    fn run(
        &self,
        candidate: &Candidate,
        mode: Mode<'_>,
        now: OffsetDateTime,
    ) -> Result<Activated, RefusalReason> {
        // 1. A private copy that nobody else writes.
        let private = match candidate {
            Candidate::Archive(path) | Candidate::Fetched { path, .. } => {
                archive::extract_to_temp(path, &self.limits)
            }
            Candidate::Dir(path) => archive::copy_to_temp(path, &self.limits),
        }
        .map_err(RefusalReason::from_archive)?;
        let dir = private.path();

        // 2. Signatures, M of N, revocation, digests.
        let verified = self
            .trust
            .verify(dir)
            .map_err(RefusalReason::from_signature)?;
        let statement_sha256 = verified.statement.sha256();

        // 3. The pack itself: manifest, digests, expiry, host version.
        let pack = Pack::read_at(dir, now).map_err(RefusalReason::from_pack)?;
        let manifest = pack.manifest.clone();

        // 4. Serial: no rollback.
        match mode {
            Mode::Offer => {
                let state = self.state();
                if state
                    .active
                    .as_ref()
                    .is_some_and(|a| a.statement_sha256 == statement_sha256)
                {
                    return Err(RefusalReason::AlreadyActive {
                        serial: manifest.serial,
                    });
                }
                if let Some(floor) = self.floor(&state)
                    && manifest.serial <= floor
                {
                    return Err(RefusalReason::Rollback {
                        offered: manifest.serial,
                        active: floor,
                    });
                }
            }
            Mode::Restore(record) => {
                if record.pack.statement_sha256 != statement_sha256 {
                    return Err(RefusalReason::NotThePersistedPack {
                        recorded: record.pack.statement_sha256.clone(),
                        found: statement_sha256,
                    });
                }
            }
        }

        // 5. Issued already.
        if let Some(issued_at) = &manifest.issued_at {
            let issued = OffsetDateTime::parse(issued_at, &Rfc3339).map_err(|e| {
                RefusalReason::Pack(PackError::invalid(
                    "issued_at",
                    format!("`{issued_at}` is not an RFC 3339 time ({e})"),
                ))
            })?;
            if issued > now.saturating_add(self.issue_tolerance) {
                return Err(RefusalReason::NotYetValid {
                    issued_at: issued_at.clone(),
                    now: now.format(&Rfc3339).unwrap_or_else(|_| now.to_string()),
                });
            }
        }

        // 6. Compile, link, configure; the engine keeps its active pack.
        let prepared = Arc::new(self.engine.prepare(&pack).map_err(RefusalReason::Load)?);

        // 7. The pack's own cases, on this host, against that very pack.
        let own_cases = run_own_tests(&self.engine, pack, &prepared)?;

        let (activated_at, origin) = match mode {
            Mode::Offer => (now, candidate.to_string()),
            Mode::Restore(record) => (record.pack.activated_at, record.pack.origin.clone()),
        };
        let active = ActivePack {
            name: manifest.name,
            version: manifest.version,
            serial: manifest.serial,
            manifest_sha256: prepared.info().digest.clone(),
            statement_sha256,
            signers: verified.signers.iter().map(|s| s.label()).collect(),
            issued_at: manifest.issued_at,
            expires_at: manifest.expires_at,
            own_cases,
            origin,
            activated_at,
        };

        // 8. Persist before the swap: what decides is what a restart brings back.
        if let Mode::Offer = mode {
            self.store.persist(dir, &active)?;
        }

        // 9. The atomic swap.
        self.engine.activate(prepared);
        let previous = {
            let mut state = self.state();
            state.floor = state.floor.max(Some(active.serial));
            state.activations += 1;
            state.active.replace(active.clone())
        };
        log::info!(
            "pack activated: name={} version={} serial={} own_cases={} origin={} restored={}",
            active.name,
            active.version,
            active.serial,
            active.own_cases,
            active.origin,
            matches!(mode, Mode::Restore(_))
        );
        Ok(Activated {
            pack: active,
            previous,
        })
    }
}

/// Runs the pack's own cases against `prepared`; the number that passed,
/// which is all of them, or why not.
fn run_own_tests(
    engine: &Engine,
    pack: Pack,
    prepared: &Arc<PreparedPack>,
) -> Result<usize, RefusalReason> {
    let dir = pack.dir.clone();
    let tests = pack
        .manifest
        .tests
        .clone()
        .unwrap_or_else(|| "tests".to_owned());
    let harness = Harness::for_prepared(engine.clone(), pack, Arc::clone(prepared))
        .map_err(RefusalReason::OwnTestsUnreadable)?;
    let files = harness
        .default_cases()
        .map_err(RefusalReason::OwnTestsUnreadable)?;
    let report = harness.run(&files, &RunOptions::default());
    if report.cases.is_empty() {
        return Err(RefusalReason::NoOwnTests { tests });
    }
    let failed = report.failed();
    if failed > 0 {
        let first_failure = report
            .cases
            .iter()
            .find(|c| !c.passed())
            .map(|c| describe_failure(c, &dir))
            .unwrap_or_default();
        return Err(RefusalReason::OwnTestsFailed {
            failed,
            passed: report.passed(),
            first_failure,
        });
    }
    Ok(report.cases.len())
}

/// `` `case name` (tests/file.yaml): field: expected …, got … ``.
fn describe_failure(case: &CaseResult, pack_dir: &Path) -> String {
    let file = case.file.strip_prefix(pack_dir).unwrap_or(&case.file);
    let mut what: Vec<String> = case
        .mismatches
        .iter()
        .take(QUOTED_MISMATCHES)
        .map(ToString::to_string)
        .collect();
    if case.mismatches.len() > QUOTED_MISMATCHES {
        what.push(format!(
            "and {} more",
            case.mismatches.len() - QUOTED_MISMATCHES
        ));
    }
    format!("`{}` ({}): {}", case.name, file.display(), what.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Mismatch;

    #[test]
    fn a_failing_case_is_described_by_name_file_and_first_mismatches() {
        let case = CaseResult {
            name: "topup: one tiyn above".into(),
            file: PathBuf::from("/tmp/qorgan-pack-x/tests/topup.yaml"),
            mismatches: (0..5)
                .map(|i| Mismatch::new(&format!("f{i}"), "a", "b"))
                .collect(),
            decisions: Vec::new(),
            recorded: Vec::new(),
            elapsed_ms: 0.0,
        };
        assert_eq!(
            describe_failure(&case, Path::new("/tmp/qorgan-pack-x")),
            "`topup: one tiyn above` (tests/topup.yaml): f0: expected a, got b; f1: expected a, got b; f2: expected a, got b; and 2 more"
        );
    }
}
