//! Reading a `text/event-stream` (WHATWG HTML §9.2.6, "Interpreting an event
//! stream"): bytes in, events and comments out. No I/O; every buffer is bounded, so
//! a misbehaving server cannot make us hold an endless line or event.

use std::mem;

use thiserror::Error;

/// The longest line kept. A revocation event's `data` line is a few hundred bytes.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// The most `data` one event may carry, all its `data` lines together.
pub(crate) const MAX_DATA: usize = 64 * 1024;

/// What the stream said, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// A dispatched event. `id` is the stream's last event ID at dispatch (empty
    /// when the server never sent one); `event` is `message` when not named.
    Event {
        event: String,
        data: String,
        id: String,
    },
    /// A comment line (`: ping`): proof of life, nothing else.
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub(crate) enum SseError {
    #[error("a line of the event stream is longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("an event carries more than {MAX_DATA} bytes of data")]
    EventTooLarge,
}

/// The parser's state between chunks: one per connection.
#[derive(Default)]
pub(crate) struct EventStream {
    line: Vec<u8>,
    /// The last byte was CR: a LF right after it ends no second line.
    after_cr: bool,
    /// Past the first line (where a byte order mark may stand).
    started: bool,
    event: String,
    data: String,
    /// The "last event ID buffer", set by `id` fields.
    id_buffer: String,
    /// The "last event ID string", set from the buffer at each dispatch.
    last_event_id: String,
}

impl EventStream {
    /// Parses `bytes`, appending what they complete to `out`. Items completed before
    /// an error are in `out`; after an error the connection should be dropped.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Item>) -> Result<(), SseError> {
        for &byte in bytes {
            match byte {
                // §9.2.5: lines end with CRLF, LF or CR.
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    self.end_line(out)?;
                }
                _ => {
                    self.after_cr = false;
                    if self.line.len() >= MAX_LINE {
                        return Err(SseError::LineTooLong);
                    }
                    self.line.push(byte);
                }
            }
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<Item>) -> Result<(), SseError> {
        let mut bytes = mem::take(&mut self.line);
        if !mem::replace(&mut self.started, true) && bytes.starts_with(b"\xEF\xBB\xBF") {
            // UTF-8 decode drops one leading byte order mark.
            bytes.drain(..3);
        }
        // CR and LF never occur inside a multi-byte UTF-8 sequence, so decoding line
        // by line is the same as decoding the stream.
        let line = String::from_utf8_lossy(&bytes);
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(':') {
            out.push(Item::Comment);
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_DATA {
                    return Err(SseError::EventTooLarge);
                }
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.id_buffer = value.to_owned(),
            // `retry` is ignored: the reconnection delay is ours to choose. Unknown
            // fields are ignored, as the specification says.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        self.last_event_id.clone_from(&self.id_buffer);
        let event = mem::take(&mut self.event);
        let mut data = mem::take(&mut self.data);
        if data.is_empty() {
            return;
        }
        data.pop(); // the LF after the last data line
        out.push(Item::Event {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_event_id.clone(),
        });
    }

    /// The last event ID string: what to send as `Last-Event-ID` on reconnection.
    #[cfg(test)]
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: &str, data: &str, id: &str) -> Item {
        Item::Event {
            event: event.into(),
            data: data.into(),
            id: id.into(),
        }
    }

    /// The same items whether the stream arrives whole or one byte at a time.
    fn check(stream: &str, expected: &[Item]) {
        let mut whole = Vec::new();
        EventStream::default()
            .feed(stream.as_bytes(), &mut whole)
            .unwrap();
        assert_eq!(whole, expected, "{stream:?}");
        let mut parser = EventStream::default();
        let mut split = Vec::new();
        for byte in stream.as_bytes() {
            parser.feed(&[*byte], &mut split).unwrap();
        }
        assert_eq!(split, expected, "{stream:?} byte by byte");
    }

    #[test]
    fn admit_revocation_events() {
        check(
            "id: 7\nevent: revocation\ndata: {\"kind\":\"jti\"}\n\n: ping\n\nevent: ready\nid: 7\ndata: {}\n\n",
            &[
                event("revocation", r#"{"kind":"jti"}"#, "7"),
                Item::Comment,
                event("ready", "{}", "7"),
            ],
        );
    }

    #[test]
    fn any_line_ending() {
        let expected = [event("message", "a", ""), event("message", "b", "")];
        check("data: a\r\n\r\ndata: b\r\n\r\n", &expected);
        check("data: a\r\rdata: b\r\r", &expected);
        check("data: a\n\ndata: b\n\n", &expected);
    }

    #[test]
    fn fields_as_the_specification_reads_them() {
        check(
            "data:no space\ndata:  two spaces\ndata\nignored: field\nretry: 10\n\n",
            &[event("message", "no space\n two spaces\n", "")],
        );
        check("\u{FEFF}data: x\n\n", &[event("message", "x", "")]);
    }

    #[test]
    fn the_last_event_id_persists_and_is_set_without_data() {
        let mut parser = EventStream::default();
        let mut out = Vec::new();
        parser
            .feed(b"id: 1\ndata: a\n\ndata: b\n\nid: 5\n\n", &mut out)
            .unwrap();
        assert_eq!(
            out,
            [event("message", "a", "1"), event("message", "b", "1")]
        );
        assert_eq!(parser.last_event_id(), "5");
        // An event cut off by the end of the stream is never dispatched.
        parser.feed(b"id: 6\ndata: c\n", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(parser.last_event_id(), "5");
    }

    #[test]
    fn lines_and_events_are_bounded() {
        let mut out = Vec::new();
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(
            EventStream::default().feed(&long, &mut out),
            Err(SseError::LineTooLong)
        );
        let line = format!("data: {}\n", "y".repeat(MAX_LINE - 10));
        let mut parser = EventStream::default();
        let result =
            (0..MAX_DATA / MAX_LINE + 1).try_for_each(|_| parser.feed(line.as_bytes(), &mut out));
        assert_eq!(result, Err(SseError::EventTooLarge));
        assert!(out.is_empty());
    }
}
