//! Reading input: `Transaction::from_json` on one generated transaction line
//! (the line of median length among 10,000 from `qorgan gen`, and the
//! longest of them), and `qorgan::jsonl::next_line` over an in-memory
//! buffer of those 10,000 lines, alone and followed by `from_json` on each.
//!
//! Why: `qorgan eval`, `backtest` and the service parse every transaction
//! before the engine sees it; `qorgan bench` deliberately leaves parsing
//! out of its figures. This is that left-out cost, per transaction, to set
//! against the engine's.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qorgan::jsonl::{Line, next_line};
use qorgan::transaction::Transaction;
use qorgan_benches::generated_lines;
use std::hint::black_box;

const LINES: u64 = 10_000;

fn from_json(c: &mut Criterion) {
    let mut lines = generated_lines(LINES);
    lines.sort_by_key(String::len);
    let (Some(median), Some(longest)) = (lines.get(lines.len() / 2), lines.last()) else {
        panic!("the generator gave no lines");
    };
    let mut group = c.benchmark_group("json/from_json");
    group.throughput(Throughput::Elements(1));
    for (name, line) in [("median", median), ("longest", longest)] {
        if let Err(e) = Transaction::from_json(line) {
            panic!("a generated line does not parse: {e}\n{line}");
        }
        eprintln!("json {name} line: {} bytes", line.len());
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| Transaction::from_json(black_box(line)));
        });
    }
    group.finish();
}

fn jsonl(c: &mut Criterion) {
    let lines = generated_lines(LINES);
    let mut buffer = lines.join("\n").into_bytes();
    buffer.push(b'\n');
    let mut group = c.benchmark_group("json/jsonl");
    group.throughput(Throughput::Elements(LINES));
    group.bench_function("next_line", |b| {
        b.iter(|| {
            let mut reader: &[u8] = black_box(&buffer);
            let mut count = 0u64;
            while let Ok(Some(line)) = next_line(&mut reader) {
                count += u64::from(matches!(line, Line::Text(_)));
            }
            assert_eq!(count, LINES, "every line is read");
            count
        });
    });
    group.bench_function("next_line + from_json", |b| {
        b.iter(|| {
            let mut reader: &[u8] = black_box(&buffer);
            let mut parsed = 0u64;
            while let Ok(Some(line)) = next_line(&mut reader) {
                if let Line::Text(text) = line {
                    parsed += u64::from(Transaction::from_json(&text).is_ok());
                }
            }
            assert_eq!(parsed, LINES, "every line parses");
            parsed
        });
    });
    group.finish();
}

criterion_group!(benches, from_json, jsonl);
criterion_main!(benches);
