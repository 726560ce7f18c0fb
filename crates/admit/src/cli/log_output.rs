//! Standard output for log lines, written in batches. A line per request, each its own
//! `write(2)`, cost a token about a third of its server CPU (BENCHMARKS.md): here lines
//! gather in a buffer, and a thread writes what has gathered every [`LINGER`], one
//! system call for many lines. A line reaches the output at most that late; the buffer
//! is written at once past [`LIMIT`], and when the process ends (`write_now`).

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long lines gather after the first before they are written.
const LINGER: Duration = Duration::from_millis(20);
/// Past this many bytes a line's writer writes the buffer itself, so a flood of
/// lines holds bounded memory.
const LIMIT: usize = 256 * 1024;

/// The shared buffer; clones write to the same one.
#[derive(Clone)]
pub struct BatchedStdout(Arc<Shared>);

struct Shared {
    lines: Mutex<Vec<u8>>,
    /// Signalled when the buffer stops being empty.
    waiting: Condvar,
}

impl BatchedStdout {
    /// The buffer, and the thread that writes it out.
    pub fn start() -> io::Result<BatchedStdout> {
        let out = BatchedStdout(Arc::new(Shared {
            lines: Mutex::new(Vec::with_capacity(LIMIT)),
            waiting: Condvar::new(),
        }));
        let writer = out.clone();
        std::thread::Builder::new()
            .name("admit-log".into())
            .spawn(move || writer.write_out())?;
        Ok(out)
    }

    fn lines(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while appending leaves at worst a partial line: keep logging.
        self.0.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_out(&self) {
        loop {
            let mut lines = self.lines();
            while lines.is_empty() {
                lines = self
                    .0
                    .waiting
                    .wait(lines)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            drop(lines);
            std::thread::sleep(LINGER);
            self.write_now();
        }
    }

    /// Writes what has gathered. The buffer stays locked meanwhile, so that batches
    /// reach the output in order.
    pub fn write_now(&self) {
        let mut lines = self.lines();
        if !lines.is_empty() {
            let mut stdout = io::stdout().lock();
            // Nowhere to report a failing standard output; the lines are dropped.
            let _ = stdout.write_all(&lines).and_then(|()| stdout.flush());
            lines.clear();
        }
    }
}

impl Write for &BatchedStdout {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut lines = self.lines();
        if lines.is_empty() {
            self.0.waiting.notify_one();
        }
        lines.extend_from_slice(line);
        let full = lines.len() >= LIMIT;
        drop(lines);
        if full {
            self.write_now();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // the thread writes; `write_now` forces it
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = &'a BatchedStdout;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_gather_in_order() {
        let out = BatchedStdout(Arc::new(Shared {
            lines: Mutex::new(Vec::new()),
            waiting: Condvar::new(),
        }));
        for n in 0..3 {
            writeln!(&out, "line {n}").unwrap();
        }
        assert_eq!(&*out.lines(), b"line 0\nline 1\nline 2\n");
    }
}
