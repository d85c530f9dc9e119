//! Verification beside a bare HMAC-SHA256 over the same bytes, in the same run, and the full
//! entry point on the vendor's sample payload.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flowtriq_webhook::{Event, Secret, Signature, Verifier, sign};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const SECRET: &str = "bench-secret-0123456789";

/// A valid event padded to `size` bytes with an unknown field, so the full path parses it.
fn body_of(size: usize) -> Vec<u8> {
    let head = r#"{"event_type":"attack_update","incident":{"id":147},"pad":""#;
    let tail = r#""}"#;
    let pad = size - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

fn signature_and_mac(c: &mut Criterion) {
    let secret = Secret::new(SECRET);
    let verifier = Verifier::new(secret.clone());
    let mut group = c.benchmark_group("verify");
    for size in [256usize, 1024, 64 * 1024, 1024 * 1024] {
        let body = bytes::Bytes::from(body_of(size));
        let header = Signature::compute(&secret, &body).to_string();
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_with_input(BenchmarkId::new("sha256", size), &body, |b, body| {
            b.iter(|| Sha256::digest(black_box(body)));
        });
        group.bench_with_input(
            BenchmarkId::new("hmac_sha256_rekeyed", size),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac =
                        <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
                    mac.update(black_box(body));
                    mac.finalize()
                });
            },
        );
        // The HMAC alone, keyed once outside the loop as the verifier keys it: the floor under
        // `verify_signature` (one more compression than the bare digest, for the outer hash).
        let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("hmac_sha256_prekeyed", size),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac = prekeyed.clone();
                    mac.update(black_box(body));
                    mac.finalize()
                });
            },
        );
        // Header parsing, the pre-keyed HMAC and the constant-time compare: what the target
        // "verification within 10% of bare SHA-256" is about.
        group.bench_with_input(
            BenchmarkId::new("verify_signature", size),
            &body,
            |b, body| {
                b.iter(|| {
                    verifier
                        .verify_signature(Some(black_box(header.as_bytes())), black_box(body))
                        .unwrap()
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("event_from_slice", size),
            &body,
            |b, body| {
                b.iter(|| Event::from_slice(black_box(body)).unwrap());
            },
        );
        // The whole entry point: limit, signature, UTF-8, typed parse.
        group.bench_with_input(BenchmarkId::new("verify_full", size), &body, |b, body| {
            b.iter(|| {
                verifier
                    .verify(Some(black_box(header.as_bytes())), body.clone())
                    .unwrap()
            });
        });
    }
    group.finish();
}

/// The whole of `Verifier::verify` (size check, header parsing, HMAC, constant-time compare,
/// UTF-8 check, event parsing) on the payload from Flowtriq's reference page, beside its parts.
fn vendor_sample(c: &mut Criterion) {
    let body = bytes::Bytes::from_static(include_bytes!("../tests/data/vendor_sample.json"));
    let secret = Secret::new(SECRET);
    let verifier = Verifier::new(secret.clone());
    let header = sign(&secret, &body);
    let mut group = c.benchmark_group("vendor_sample");
    group.throughput(Throughput::Bytes(body.len() as u64));

    group.bench_function("verifier", |b| {
        b.iter(|| {
            verifier
                .verify(Some(black_box(header.as_bytes())), body.clone())
                .unwrap()
        });
    });
    group.bench_function("event_from_slice", |b| {
        b.iter(|| Event::from_slice(black_box(&body)).unwrap());
    });
    group.bench_function("signature_parse", |b| {
        b.iter(|| Signature::parse(black_box(header.as_bytes())).unwrap());
    });
    group.bench_function("hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(black_box(&body));
            mac.finalize()
        });
    });
    group.finish();
}

criterion_group!(benches, signature_and_mac, vendor_sample);
criterion_main!(benches);
