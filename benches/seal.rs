//! What verifying a sealed binary costs, next to what it must at least do:
//! hash the file. `cargo bench --features seal --bench seal`.
//!
//! The binary is this bench's own executable (a real ELF with a record),
//! sealed into a temporary directory once.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::Read;

use buildtrace::inspect::{inspect_path, Limits};
use buildtrace::seal::{seal_file, verify_path, TrustedKey, Verdict};
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::Generate;
use sha2::{Digest, Sha256};

buildtrace::embed!();

fn seal(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("app");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    let key = SigningKey::try_generate().unwrap();
    let trusted = [TrustedKey {
        key: *key.verifying_key(),
        id: buildtrace::signing::key_id(key.verifying_key()),
        label: "bench".into(),
    }];
    let limits = Limits::default();
    seal_file(&exe, None, &key, &limits).unwrap();
    let len = std::fs::metadata(&exe).unwrap().len();

    let mut g = c.benchmark_group("seal");
    g.throughput(Throughput::Bytes(len));
    g.sample_size(20);
    g.bench_function("verify_path (sealed, trusted key)", |b| {
        b.iter(|| {
            let v = verify_path(&exe, &trusted, &limits).unwrap();
            assert_eq!(v.verdict, Verdict::SealedAndBound);
        })
    });
    // The floor: reading and hashing the whole file once.
    g.bench_function("SHA-256 of the file (the floor)", |b| {
        b.iter(|| {
            let mut f = std::fs::File::open(&exe).unwrap();
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            black_box(h.finalize())
        })
    });
    g.bench_function("inspect_path (the record only)", |b| {
        b.iter(|| black_box(inspect_path(&exe, &limits).unwrap()))
    });
    g.bench_function("seal_file (copy, hash, sign, rename)", |b| {
        b.iter(|| seal_file(&exe, None, &key, &limits).unwrap())
    });
    g.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
