//! The cost of the host's account history, per transaction: recording a
//! transaction, and answering the questions a rule asks about it, as the
//! number of events an account holds grows.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qorgan::history::{Cursor, Direction, History, HistoryLimits, Query};
use qorgan_benches::{stream, transfer};

fn tiyn(tx: &qorgan::transaction::Transaction) -> i64 {
    tx.amount.to_tiyn((1, 0)).unwrap_or(0)
}

/// Recording: a stream of 10,000 transfers among 1,000 accounts.
fn record(c: &mut Criterion) {
    let txs = stream(10_000, 1_000, 5);
    let mut group = c.benchmark_group("history/record");
    group.throughput(Throughput::Elements(txs.len() as u64));
    group.bench_function("10000 transfers, 1000 accounts", |b| {
        b.iter_batched(
            || History::new(HistoryLimits::default()),
            |history| history.record(txs.iter().map(|tx| (tx, tiyn(tx)))),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

/// One account with `events` inbound transfers from distinct senders in the
/// last day, asked at a cursor after all of them.
fn busy_account(events: u64) -> (History, u64, u64, Cursor) {
    let history = History::new(HistoryLimits {
        retention_secs: 90 * 86_400,
        max_events_per_account: 100_000,
    });
    let gap = 86_000 / events.max(1);
    let txs: Vec<_> = (0..events)
        .map(|i| {
            transfer(
                i,
                &format!("KZS{i:017}"),
                "KZMULE000000000001",
                50_000,
                i * gap,
            )
        })
        .collect();
    let stamps = history.record(txs.iter().map(|tx| (tx, tiyn(tx))));
    let last = stamps
        .last()
        .map(|s| (s.recipient, s.device.unwrap_or(0), s.at));
    let (account, device, at) = last.unwrap_or((0, 0, Cursor::new(0, 0)));
    let at = Cursor::new(at.seq + 1, at.time + 60);
    (history, account, device, at)
}

fn query(account: u64, direction: Direction, window: u32) -> Query {
    Query {
        account,
        window,
        direction,
        kinds: 0,
        min_amount: 0,
        max_amount: i64::MAX,
    }
}

/// Answering: one 24 h aggregate, the set of eight questions kz-mule asks
/// for one transaction, and a linked-accounts count, for accounts holding
/// 10 to 10,000 events.
fn answer(c: &mut Criterion) {
    let mut group = c.benchmark_group("history/answer");
    for events in [10u64, 100, 1_000, 10_000] {
        let (history, account, device, at) = busy_account(events);
        group.bench_with_input(
            BenchmarkId::new("aggregate 24h", events),
            &events,
            |b, _| {
                b.iter(|| history.aggregate(at, &query(account, Direction::Inbound, 86_400)));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("mule question set", events),
            &events,
            |b, _| {
                b.iter(|| {
                    let day = 86_400;
                    let a = history.aggregate(at, &query(account, Direction::Inbound, day));
                    let b2 = history.aggregate(at, &query(account, Direction::Outbound, day));
                    let c2 = history.aggregate(at, &query(account, Direction::Inbound, 30 * day));
                    let d = history.aggregate(at, &query(account, Direction::Inbound, 3_600));
                    let mut small = query(account, Direction::Inbound, day);
                    small.max_amount = 10_000_000;
                    let e = history.aggregate(at, &small);
                    let f = history.first_seen(at, account);
                    let g = history.linked_accounts(at, device, 30 * day);
                    let h = history.aggregate(at, &query(account, Direction::Both, 60 * day));
                    (a, b2, c2, d, e, f, g, h)
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("linked accounts", events),
            &events,
            |b, _| {
                b.iter(|| history.linked_accounts(at, device, 30 * 86_400));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, record, answer);
criterion_main!(benches);
