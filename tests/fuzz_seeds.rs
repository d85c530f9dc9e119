//! Writes the fuzz targets' seed corpora from the shared case table:
//! `cargo test --test fuzz_seeds -- --ignored` (see fuzz/README.md).

mod support;

use std::{fs, io, path::Path};

/// Bodies larger than this are left out: the fuzzers work on small inputs.
const MAX_SEED: usize = 4096;

fn write(target: &str, name: &str, bytes: &[u8]) -> io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(name), bytes)
}

#[test]
#[ignore = "writes fuzz/seeds; run on purpose"]
fn write_seed_corpora() -> io::Result<()> {
    for (index, case) in support::cases().iter().enumerate() {
        let request = case.request();
        if request.body.len() > MAX_SEED {
            continue;
        }
        let name = format!("{index:02}");
        let header = request.signature.clone().unwrap_or_default().into_bytes();
        write("signature_header", &name, &header)?;
        write("event_parse", &name, &request.body)?;
        // verify: control byte (header length, header present), header, body.
        let header_len = header.len().min(0x3f);
        let control = u8::try_from(header_len).unwrap_or(0)
            | if request.signature.is_none() { 0x40 } else { 0 };
        let mut input = vec![control];
        input.extend_from_slice(header.get(..header_len).unwrap_or_default());
        input.extend_from_slice(&request.body);
        write("verify", &name, &input)?;
        // sign_verify: secret length, secret, body.
        let mut input = vec![u8::try_from(support::SECRET.len()).unwrap_or(0)];
        input.extend_from_slice(support::SECRET.as_bytes());
        input.extend_from_slice(&request.body);
        write("sign_verify", &name, &input)?;
    }
    Ok(())
}
