//! A deliberately small HTTP/1.1 client over a raw TCP socket, so tests control the framing
//! (chunked or `Content-Length`) and still read an early answer such as a 413 sent before the
//! body was read.

use std::net::SocketAddr;

use flowtriq_webhook_examples::exchange;

use super::{PATH, WireRequest, WireResponse};

/// Sends `request` to `POST /webhook` at `addr` and reads the answer, reading while it writes
/// ([`flowtriq_webhook_examples::exchange`]) so that an early answer is not lost.
pub async fn send(addr: SocketAddr, request: WireRequest) -> Result<WireResponse, String> {
    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nconnection: close\r\n"
    );
    if let Some(signature) = &request.signature {
        head.push_str(&format!("x-flowtriq-signature: {signature}\r\n"));
    }
    let body = if request.chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
        chunked(&request.body)
    } else {
        head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
        request.body
    };
    let wire = [head.into_bytes(), body].concat();

    let (raw, read_error) = exchange(addr, wire, |raw| parse(raw, false).is_some())
        .await
        .map_err(|e| e.to_string())?;
    parse(&raw, true).ok_or_else(|| {
        format!(
            "no complete response ({} bytes read, {read_error:?}): {:.200}",
            raw.len(),
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `body` in chunks of 16 KiB, with `Transfer-Encoding: chunked` framing.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(body.len() + 64);
    for chunk in body.chunks(16 * 1024) {
        framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(b"0\r\n\r\n");
    framed
}

/// Parses a complete response, or `None` while more bytes are needed; `eof` says the server
/// closed the connection.
fn parse(raw: &[u8], eof: bool) -> Option<WireResponse> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[head_end + 4..];
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = find("content-length") {
        let len: usize = len.parse().ok()?;
        rest.get(..len)?.to_vec()
    } else if find("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if eof {
        // Delimited by the end of the connection.
        rest.to_vec()
    } else {
        return None;
    };
    Some(WireResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}
