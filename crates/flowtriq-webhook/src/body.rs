//! Buffering a streamed body under a limit, shared by every adapter.

use bytes::{Bytes, BytesMut};

use crate::Error;

/// Collects a request body chunk by chunk and refuses it once it exceeds the limit.
///
/// Adapters feed it the framework's body stream; it keeps memory bounded (at most the limit
/// plus the chunk that crossed it) and, when the body arrived in one chunk, hands that chunk
/// back without copying.
///
/// ```
/// use bytes::Bytes;
/// use flowtriq_webhook::BodyBuffer;
///
/// let mut buffer = BodyBuffer::new(8, None)?;
/// buffer.push(Bytes::from_static(b"1234"))?;
/// buffer.push(Bytes::from_static(b"5678"))?;
/// assert!(buffer.push(Bytes::from_static(b"9")).is_err());
/// # Ok::<(), flowtriq_webhook::Error>(())
/// ```
#[derive(Debug)]
pub struct BodyBuffer {
    limit: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl BodyBuffer {
    /// Starts a body of at most `limit` bytes.
    ///
    /// A declared `Content-Length` above the limit is refused at once, before any byte is read.
    pub fn new(limit: usize, content_length: Option<u64>) -> Result<Self, Error> {
        if content_length.is_some_and(|len| len > limit as u64) {
            return Err(too_large(limit));
        }
        Ok(Self {
            limit,
            state: State::Empty,
        })
    }

    /// Appends a chunk; fails once the body is longer than the limit.
    pub fn push(&mut self, chunk: Bytes) -> Result<(), Error> {
        if chunk.len() > self.limit - self.len() {
            return Err(too_large(self.limit));
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.state = match std::mem::replace(&mut self.state, State::Empty) {
            State::Empty => State::One(chunk),
            State::One(first) => {
                let mut all = BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                State::Many(all)
            }
            State::Many(mut all) => {
                all.extend_from_slice(&chunk);
                State::Many(all)
            }
        };
        Ok(())
    }

    /// Bytes collected so far.
    pub fn len(&self) -> usize {
        match &self.state {
            State::Empty => 0,
            State::One(bytes) => bytes.len(),
            State::Many(bytes) => bytes.len(),
        }
    }

    /// Whether no byte has been collected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        match self.state {
            State::Empty => Bytes::new(),
            State::One(bytes) => bytes,
            State::Many(bytes) => bytes.freeze(),
        }
    }
}

fn too_large(limit: usize) -> Error {
    let error = Error::PayloadTooLarge { limit };
    error.log();
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_edges() {
        assert!(BodyBuffer::new(10, Some(10)).is_ok());
        assert_eq!(
            BodyBuffer::new(10, Some(11)).err(),
            Some(Error::PayloadTooLarge { limit: 10 })
        );
    }

    #[test]
    fn streamed_edges() -> Result<(), Error> {
        let mut buffer = BodyBuffer::new(10, None)?;
        buffer.push(Bytes::from_static(b"12345"))?;
        buffer.push(Bytes::new())?;
        buffer.push(Bytes::from_static(b"67890"))?;
        assert_eq!(buffer.len(), 10);
        assert!(buffer.push(Bytes::from_static(b"x")).is_err());
        assert_eq!(buffer.finish(), Bytes::from_static(b"1234567890"));
        Ok(())
    }

    #[test]
    fn one_chunk_is_not_copied() -> Result<(), Error> {
        let chunk = Bytes::from(vec![7u8; 64]);
        let mut buffer = BodyBuffer::new(64, None)?;
        buffer.push(chunk.clone())?;
        assert_eq!(buffer.finish().as_ptr(), chunk.as_ptr());
        Ok(())
    }
}
