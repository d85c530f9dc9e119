//! A deliberately small HTTP/1.1 client over a raw TCP socket, so tests control the framing
//! (chunked or `Content-Length`) and still read an early answer such as a 413 sent before the
//! body was read.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{PATH, WireRequest, WireResponse};

/// Sends `request` to `POST /webhook` at `addr` and reads the answer.
pub async fn send(addr: SocketAddr, request: WireRequest) -> Result<WireResponse, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();

    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nconnection: close\r\n"
    );
    if let Some(signature) = &request.signature {
        head.push_str(&format!("x-flowtriq-signature: {signature}\r\n"));
    }
    if request.chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
    }

    // Write while reading: a server may answer (413) and close before taking the whole body,
    // and then a write error is expected, not a failure.
    let write = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        if request.chunked {
            for chunk in request.body.chunks(16 * 1024) {
                writer
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                writer.write_all(chunk).await?;
                writer.write_all(b"\r\n").await?;
            }
            writer.write_all(b"0\r\n\r\n").await?;
        } else {
            writer.write_all(&request.body).await?;
        }
        writer.flush().await?;
        // Dropping the writer would half-close the socket, and a server may take that as the
        // client leaving; hold it until the answer is read and this task aborted.
        std::future::pending::<std::io::Result<()>>().await
    });

    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read_error = loop {
        match reader.read(&mut buf).await {
            Ok(0) => break None,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if let Some(response) = parse(&raw, false) {
                    write.abort();
                    return Ok(response);
                }
            }
            Err(e) => break Some(e),
        }
    };
    write.abort();
    parse(&raw, true).ok_or_else(|| {
        format!(
            "no complete response ({} bytes read, {read_error:?}): {:.200}",
            raw.len(),
            String::from_utf8_lossy(&raw)
        )
    })
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
