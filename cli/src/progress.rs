//! Progress bars on the terminal (stderr); nothing when it is not one, or with --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `total` bytes showing the bytes done, the rate and the time left.
pub fn bytes_bar(total: u64, action: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(action.to_owned());
    bar
}

/// A line for people on stderr (stdout is for results).
pub fn note(quiet: bool, line: &str) {
    if !quiet {
        eprintln!("{line}");
    }
}
