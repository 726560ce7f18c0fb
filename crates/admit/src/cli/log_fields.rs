//! The fields of a text log line without colours, as `name=value`: what
//! tracing-subscriber's default visitor writes with colours off, without wrapping each
//! name and `=` in an empty ANSI style first. That wrapping cost about 4 000
//! instructions per request line (BENCHMARKS.md, "Identifier pass"). Messages, errors
//! and raw identifiers (`r#type`) go to the default visitor, which escapes what they
//! hold; every other value is written with `Debug`, as it does.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};

/// The field formatter for text lines without colours (`fmt::layer().fmt_fields`).
pub struct PlainFields;

impl<'a> MakeVisitor<Writer<'a>> for PlainFields {
    type Visitor = PlainVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> PlainVisitor<'a> {
        PlainVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        }
    }
}

pub struct PlainVisitor<'a> {
    writer: Writer<'a>,
    /// Nothing written yet, so no space before the next field.
    is_empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Hands one field to the default visitor, which always writes it.
    fn by_default(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut default = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut default);
        self.result = self.result.and(default.finish());
        self.is_empty = false;
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.by_default(|v| v.record_str(field, value)),
            _ => self.record_debug(field, &value),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.by_default(|v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        // The default visitor skips `log.` fields: the `log` crate's metadata.
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        if name == "message" || name.starts_with("r#") {
            return self.by_default(|v| v.record_debug(field, value));
        }
        if !std::mem::take(&mut self.is_empty) {
            self.result = self.writer.write_char(' ');
        }
        self.result = self
            .result
            .and_then(|()| write!(self.writer, "{name}={value:?}"));
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::prelude::*;

    use super::PlainFields;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    /// Lines with a span, the request line's kinds of field, an error with a source,
    /// a raw identifier and a message holding an escape character.
    fn lines(plain: bool) -> String {
        let out = Captured::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(out.clone())
            .with_ansi(false)
            .without_time();
        let layer = match plain {
            true => layer.fmt_fields(PlainFields).boxed(),
            false => layer.boxed(),
        };
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let source = io::Error::other("the disk is full");
            let error = anyhow::Error::new(source).context("appending failed");
            let error: &(dyn std::error::Error + 'static) = error.as_ref();
            let _span = tracing::info_span!("request", id = %"abc", n = 3).entered();
            tracing::info!(
                request_id = %"dx8GR_RRCofGelLy",
                method = %"POST",
                status = 200u16,
                latency_ms = 0.285,
                client_id = Some("svc \"quoted\""),
                absent = None::<&str>,
                flag = true,
                r#type = "raw",
                error,
                "served \u{1b}[31m{}", 1
            );
            tracing::warn!("a message alone");
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn plain_fields_write_what_the_default_writes_without_colours() {
        let default = lines(false);
        assert!(default.contains("status=200 latency_ms=0.285"), "{default}");
        assert_eq!(lines(true), default);
    }
}
