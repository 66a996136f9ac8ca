//! Several replicas of `qorgan serve` sharing one journal and one decision
//! log in PostgreSQL.
//!
//! # Why
//!
//! A bank runs two or three replicas behind a load balancer, for
//! availability and rolling upgrades. History rules decide from what came
//! before, so replicas that each kept their own history would each see part
//! of every account: a mule's inbound transfers on one, its cash-out on
//! another, and nobody holds it. So the replicas share one **journal**, one
//! total order of transactions, and each keeps in memory a projection of
//! all of it.
//!
//! # The consistency model
//!
//! Every transaction has one position in the journal. A replica journals a
//! batch in one round trip to PostgreSQL ([`ReplicaJournal::append`]): a
//! server-side function takes the journal's lock, returns every entry
//! journaled since this replica last asked, inserts the batch right after
//! them (an id already journaled keeps its first position) and commits. The
//! replica records the returned entries in its history, then its own batch,
//! and decides its batch at those positions. So each decision sees exactly
//! the transactions before it in the one global order, whichever replica
//! journaled them: two replicas deciding one account at once behave as one
//! deciding thread, and a single node replaying the journal's order decides
//! every transaction as the cluster did.
//!
//! A replica holds history's memory for every entry not yet known to be
//! decided anywhere (the journal's *undecided watermark*, returned by each
//! round trip), so that an entry whose replica died between journaling and
//! deciding can still be decided exactly at its position by another one:
//! each replica holds a PostgreSQL advisory lock named after it while it
//! runs, and a replica that can take a dead replica's lock decides its
//! undecided entries (the *sweep*). The decision log's commit sets each
//! entry's decision once (`journal.seq IS NULL` is checked), so an entry
//! has exactly one decision.
//!
//! The decision log is one hash chain across replicas, in commit order
//! (the chain's head is a row each commit locks); `audit replay` decides
//! the rows in journal order. [`export`] copies the cluster's log into the
//! SQLite format that `audit verify` and `audit replay` read.
//!
//! ```text
//! journal(position, tx_id, time, amount, digest, footprint, owner, tx, seq)
//!     one row per journaled transaction; owner is the replica that journaled
//!     it, tx its body until it is decided, seq its decision's row
//! decisions(...), packs(...)          as in the SQLite log (crate::audit::log)
//! chain_head(seq, hash)               where the chain continues
//! qorgan_meta(key, value)             the format's version
//! ```

mod export;
mod journal;
mod store;

use std::str::FromStr;

pub use export::{Exported, export};
pub use journal::{Caught, Placed, ReplicaJournal, RoundTrip, Undecided};
pub(crate) use store::PgStore;

use crate::audit::AuditError;

/// The format of the cluster's tables this host writes and reads.
pub const FORMAT: &str = "1";

/// A PostgreSQL database holding a cluster's journal and decision log.
#[derive(Clone)]
pub struct Database {
    url: String,
    config: postgres::Config,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Database").field(&self.label()).finish()
    }
}

impl PartialEq for Database {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for Database {}

impl Database {
    /// Reads a `postgres://user:password@host:port/dbname` URL (or a
    /// `key=value` connection string). TLS to PostgreSQL is not supported
    /// yet: `sslmode=require` is refused rather than ignored.
    pub fn parse(url: &str) -> Result<Database, String> {
        let config = postgres::Config::from_str(url)
            .map_err(|e| format!("the journal {}: not a PostgreSQL URL: {e}", redact(url)))?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(format!(
                "the journal {}: sslmode=require, but this host connects to PostgreSQL without TLS; use a private network or a local TLS tunnel (docs/cluster.md)",
                redact(url)
            ));
        }
        if config.get_hosts().is_empty() {
            return Err(format!("the journal {}: names no host", redact(url)));
        }
        Ok(Database {
            url: url.to_owned(),
            config,
        })
    }

    /// `host:port/dbname`, for messages: never the password.
    pub fn label(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "?".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self
            .config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("postgres");
        format!("{host}:{port}/{db}")
    }

    /// Wraps a client error on this database.
    pub(crate) fn error(&self, source: postgres::Error) -> AuditError {
        AuditError::Postgres {
            database: self.label(),
            source,
        }
    }

    /// A new connection, with the cluster's tables created if missing.
    pub(crate) fn connect(&self) -> Result<postgres::Client, AuditError> {
        let mut config = self.config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        config.keepalives_idle(std::time::Duration::from_secs(10));
        // The schema's `IF NOT EXISTS` notices are not worth a log line.
        let options = format!(
            "{} -c client_min_messages=warning",
            config.get_options().unwrap_or("")
        );
        config.options(options.trim());
        let mut client = config.connect(postgres::NoTls).map_err(|e| self.error(e))?;
        if let Err(format) = ensure_schema(&mut client).map_err(|e| self.error(e))? {
            return Err(AuditError::Format {
                path: self.label().into(),
                problem: format!(
                    "the cluster's tables are of format {format}; this host reads and writes {FORMAT}"
                ),
            });
        }
        Ok(client)
    }
}

/// The URL with its password replaced by `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Whether `error` means PostgreSQL cannot be used now (unreachable,
/// shutting down, out of resources), rather than a statement being wrong.
pub(crate) fn unavailable(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        None => true,
        Some(code) => {
            let class = code.code().get(..2).unwrap_or("");
            // 25006: a read-only transaction, as on a standby or a demoted
            // primary after a failover: reconnect until the primary answers.
            matches!(class, "08" | "53" | "57") || code.code() == "25006"
        }
    }
}

/// The lock every append takes: one journal head for the whole cluster.
const HEAD_LOCK: i64 = 0x716f_7267_616e_4a48; // "qorganJH"

/// The tables and the append function, created by whichever replica comes
/// first (under a lock, so concurrent starts do not race).
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS qorgan_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS packs (
    digest  text PRIMARY KEY,
    name    text NOT NULL,
    version text NOT NULL,
    serial  bigint NOT NULL,
    archive bytea
);
CREATE TABLE IF NOT EXISTS decisions (
    seq          bigint PRIMARY KEY,
    decision_id  text NOT NULL UNIQUE,
    tx_id        text NOT NULL,
    run          text NOT NULL,
    decided_at   text NOT NULL,
    action       text NOT NULL,
    pack_name    text NOT NULL,
    pack_version text NOT NULL,
    pack_serial  bigint NOT NULL,
    pack_digest  text NOT NULL,
    plugins      text NOT NULL,
    tx           text NOT NULL,
    decision     text NOT NULL,
    prev_hash    text NOT NULL,
    hash         text NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO chain_head (one, seq, hash)
    VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000')
    ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS journal (
    position  bigint PRIMARY KEY,
    tx_id     text NOT NULL,
    time      bigint NOT NULL,
    amount    bigint NOT NULL,
    digest    bytea NOT NULL,
    footprint bytea NOT NULL,
    owner     text NOT NULL,
    tx        text,
    seq       bigint UNIQUE
);
CREATE INDEX IF NOT EXISTS journal_tx_id ON journal (tx_id, position);
CREATE INDEX IF NOT EXISTS journal_undecided ON journal (position) WHERE seq IS NULL;

CREATE OR REPLACE FUNCTION qorgan_append_v1(
    p_owner text, p_after bigint, p_horizon bigint,
    p_ids text[], p_times bigint[], p_amounts bigint[], p_digests bytea[],
    p_footprints bytea[], p_txs text[])
RETURNS TABLE (o_kind text, o_item integer, o_position bigint, o_tx_id text,
               o_time bigint, o_footprint bytea, o_owner text, o_decided boolean,
               o_digest bytea, o_decision text)
LANGUAGE plpgsql AS $fn$
DECLARE
    head bigint;
    found_position bigint;
    found_digest bytea;
    found_seq bigint;
    i integer;
BEGIN
    PERFORM pg_advisory_xact_lock(HEAD_LOCK);
    SELECT coalesce(max(j.position), 0) INTO head FROM journal j;
    RETURN QUERY
        SELECT 'entry'::text, 0, j.position, j.tx_id, j.time, j.footprint, j.owner,
               j.seq IS NOT NULL, NULL::bytea, NULL::text
        FROM journal j WHERE j.position > p_after ORDER BY j.position;
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT j.position, j.digest, j.seq INTO found_position, found_digest, found_seq
        FROM journal j WHERE j.tx_id = p_ids[i] AND j.time > p_horizon
        ORDER BY j.position DESC LIMIT 1;
        IF FOUND THEN
            RETURN QUERY SELECT 'existing'::text, i - 1, found_position, NULL::text,
                NULL::bigint, NULL::bytea, NULL::text, found_seq IS NOT NULL, found_digest,
                (SELECT d.decision FROM decisions d WHERE d.seq = found_seq);
        ELSE
            head := head + 1;
            INSERT INTO journal (position, tx_id, time, amount, digest, footprint, owner, tx)
                VALUES (head, p_ids[i], p_times[i], p_amounts[i], p_digests[i],
                        p_footprints[i], p_owner, p_txs[i]);
            RETURN QUERY SELECT 'new'::text, i - 1, head, NULL::text, NULL::bigint,
                NULL::bytea, NULL::text, false, NULL::bytea, NULL::text;
        END IF;
    END LOOP;
    -- Entries dated at or before the horizon are outside every replica's
    -- retention: none holds memory for them, so they do not count.
    RETURN QUERY SELECT 'undecided'::text, 0,
        coalesce((SELECT min(j.position) FROM journal j
                  WHERE j.seq IS NULL AND j.time > p_horizon), head + 1),
        NULL::text, NULL::bigint, NULL::bytea, NULL::text, false, NULL::bytea, NULL::text;
END
$fn$;
"#;

/// Creates the tables and function if missing; `Err(format)` when the
/// database holds another format than this host's.
fn ensure_schema(client: &mut postgres::Client) -> Result<Result<(), String>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&HEAD_LOCK])?;
    tx.batch_execute(&SCHEMA.replace("HEAD_LOCK", &HEAD_LOCK.to_string()))?;
    let format: Option<String> = tx
        .query_opt("SELECT value FROM qorgan_meta WHERE key = 'format'", &[])?
        .map(|row| row.get(0));
    match format {
        None => {
            tx.execute(
                "INSERT INTO qorgan_meta (key, value) VALUES ('format', $1)",
                &[&FORMAT],
            )?;
        }
        Some(format) if format == FORMAT => {}
        Some(format) => return Ok(Err(format)),
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// The advisory lock a running replica named `name` holds.
pub(crate) fn replica_lock(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("qorgan-replica:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_labelled_without_its_password() -> Result<(), String> {
        let db = Database::parse("postgres://qorgan:s3cret@db.bank.kz:6543/aml")?;
        assert_eq!(db.label(), "db.bank.kz:6543/aml");
        assert!(!format!("{db:?}").contains("s3cret"));
        assert_eq!(
            redact("postgres://qorgan:s3cret@db:5432/aml"),
            "postgres://qorgan:***@db:5432/aml"
        );
        Ok(())
    }

    #[test]
    fn sslmode_require_is_refused_rather_than_ignored() {
        match Database::parse("postgres://q:pw@db/aml?sslmode=require") {
            Err(e) => {
                assert!(e.contains("sslmode=require"), "{e}");
                assert!(!e.contains("pw@"), "{e}");
            }
            Ok(_) => panic!("sslmode=require accepted without TLS"),
        }
        assert!(Database::parse("not a url at all ://").is_err());
    }

    #[test]
    fn replicas_lock_apart() {
        assert_ne!(replica_lock("a"), replica_lock("b"));
        assert_eq!(replica_lock("a"), replica_lock("a"));
    }
}
