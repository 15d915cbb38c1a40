//! Decoding in a child process: what a hostile file can do to a decoder (abort it,
//! loop, allocate without end) ends that process, not the function. The release
//! profile aborts on panic, so `catch_unwind` cannot stand in for this on Lambda.
//!
//! The preview function runs itself again as `preview render`: the source goes in on
//! stdin, the thumbnail (or the refusal) comes out on stdout. The child's address
//! space is capped (`RLIMIT_AS`), and it is killed at the time limit.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shared::error::{Error, ErrorCode, Result};
use shared::ports::{DecodeLimits, Fit, ImageFormat, Thumbnail, Thumbnailer};

use crate::unreadable;

/// What the preview function runs: PDFs in a child process ([`Isolated`]), images in
/// its own. A PDF's drawing has no bound a header can show (its content decides), and
/// hayro is the youngest decoder here; the image decoders are bounded by the pixel
/// check and fuzzed upstream, and a child costs an image its warm allocator: 20 ms on
/// a 12-megapixel JPEG, 70 ms on a 6-megapixel PNG (`make bench` section 9).
#[derive(Clone, Debug)]
pub struct PdfIsolated {
    pub pdf: Isolated,
}

/// The decoder child's address space: a 2048 px page and the PDF's images and fonts,
/// beside the parent process, inside the preview function's 512 MB.
pub const CHILD_MEMORY_BYTES: u64 = 384 * 1024 * 1024;

impl PdfIsolated {
    /// PDFs drawn by `program` (which runs [`child_main`] when its first argument is
    /// [`CHILD_ARGUMENT`]: the preview function, and the local API), killed at
    /// `time_limit`. The same in every mode: the limit ends the work, not only the wait.
    pub fn in_child_of(program: PathBuf, time_limit: Duration) -> Self {
        PdfIsolated {
            pdf: Isolated {
                program,
                max_memory: CHILD_MEMORY_BYTES,
                time_limit,
            },
        }
    }
}

impl Thumbnailer for PdfIsolated {
    fn render(&self, source: Vec<u8>, fit: Fit, limits: DecodeLimits) -> Result<Thumbnail> {
        match crate::SourceKind::sniff(&source) {
            Some(crate::SourceKind::Pdf) => self.pdf.render(source, fit, limits),
            _ => crate::Renderer.render(source, fit, limits),
        }
    }
}

/// The child's exit status when a PDF's drawing is past the operation budget.
const EXIT_TOO_COMPLEX: i32 = 4;

/// The argument that makes the preview binary a decoder child.
pub const CHILD_ARGUMENT: &str = "render";

/// A thumbnailer that decodes in a child process of `program`.
#[derive(Clone, Debug)]
pub struct Isolated {
    pub program: PathBuf,
    /// The child's address space, bytes (its code and heap together).
    pub max_memory: u64,
    /// When the child is killed.
    pub time_limit: Duration,
}

impl Thumbnailer for Isolated {
    fn render(&self, source: Vec<u8>, fit: Fit, limits: DecodeLimits) -> Result<Thumbnail> {
        let side = |s: Option<u32>| s.unwrap_or_default().to_string();
        let max_memory = self.max_memory;
        let mut command = Command::new(&self.program);
        command
            .args([CHILD_ARGUMENT, &side(fit.width()), &side(fit.height())])
            .arg(limits.max_pixels.to_string())
            .arg(limits.max_draw_operations.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: max_memory as libc::rlim_t,
                    rlim_max: max_memory as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| Error::internal("start the decoder", e))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        // The source is written while the answer is read: neither pipe fills up.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&source); // a child that stopped reading has ended
        });
        let reader = std::thread::spawn(move || {
            let mut answer = Vec::new();
            stdout.read_to_end(&mut answer).map(|_| answer)
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < self.time_limit => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = writer.join();
                    let _ = reader.join();
                    return Err(unreadable(format!(
                        "the file took longer than {} ms to decode",
                        self.time_limit.as_millis()
                    )));
                }
                Err(e) => return Err(Error::internal("wait for the decoder", e)),
            }
        };
        let _ = writer.join();
        let answer = reader
            .join()
            .map_err(|_| Error::internal("decoder output", "reader failed"))?
            .map_err(|e| Error::internal("decoder output", e))?;
        if status.code() == Some(EXIT_TOO_COMPLEX) {
            return Err(unreadable(format!(
                "the PDF's drawing is too complex to preview (more than {} operations)",
                limits.max_draw_operations
            )));
        }
        if !status.success() {
            // Killed by the memory cap, an abort, or a signal: the file did it.
            return Err(unreadable(
                "the file could not be decoded within the preview's memory",
            ));
        }
        decode_answer(&answer)
    }
}

/// The child: reads the source from stdin, writes the answer to stdout; the process's
/// exit status (0: an answer was written). `args` are what follows
/// [`CHILD_ARGUMENT`]: `w h max_pixels max_draw_operations` (0: that side is free).
pub fn child_main(args: &[String]) -> i32 {
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    let side = |i: usize| number(i).filter(|&n| n > 0).map(|n| n as u32);
    let (Ok(fit), Some(max_pixels), Some(max_draw_operations)) =
        (Fit::new(side(0), side(1)), number(2), number(3))
    else {
        return 2;
    };
    let mut source = Vec::new();
    if std::io::stdin().read_to_end(&mut source).is_err() {
        return 2;
    }
    // A PDF is interpreted once without drawing first: past the budget this child exits.
    if crate::SourceKind::sniff(&source) == Some(crate::SourceKind::Pdf) {
        crate::pdf::count_draw_operations(&source, max_draw_operations, || {
            std::process::exit(EXIT_TOO_COMPLEX)
        });
    }
    let limits = DecodeLimits {
        max_pixels,
        max_draw_operations,
    };
    let answer = encode_answer(crate::render(source, fit, limits));
    match std::io::stdout().write_all(&answer) {
        Ok(()) => 0,
        Err(_) => 3,
    }
}

/// `T` + width + height (u32 BE) + the encoded image, or `E` + the code's name, a
/// newline and the message.
fn encode_answer(result: Result<Thumbnail>) -> Vec<u8> {
    match result {
        Ok(t) => {
            let mut out = b"T".to_vec();
            out.extend_from_slice(&t.width.to_be_bytes());
            out.extend_from_slice(&t.height.to_be_bytes());
            out.extend(t.bytes);
            out
        }
        Err(e) => format!("E{}\n{}", e.code().as_str(), e.public_message()).into_bytes(),
    }
}

fn decode_answer(answer: &[u8]) -> Result<Thumbnail> {
    let broken = || Error::internal("decoder output", "an answer of no known shape");
    match answer.split_first() {
        Some((b'T', rest)) if rest.len() > 8 => {
            let width = u32::from_be_bytes(rest[0..4].try_into().map_err(|_| broken())?);
            let height = u32::from_be_bytes(rest[4..8].try_into().map_err(|_| broken())?);
            let bytes = rest[8..].to_vec();
            let format = ImageFormat::sniff(&bytes).ok_or_else(broken)?;
            Ok(Thumbnail {
                bytes,
                format,
                width,
                height,
            })
        }
        Some((b'E', rest)) => {
            let text = String::from_utf8_lossy(rest);
            let (code, message) = text.split_once('\n').unwrap_or((&text, ""));
            let code = match code {
                "unsupported_media_type" => ErrorCode::UnsupportedMediaType,
                "image_too_large" => ErrorCode::ImageTooLarge,
                "unreadable_image" => ErrorCode::UnreadableImage,
                _ => return Err(Error::internal("decoder", format!("{code}: {message}"))),
            };
            Err(Error::new(code, message.to_owned()))
        }
        _ => Err(broken()),
    }
}
