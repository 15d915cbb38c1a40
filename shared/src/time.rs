//! Wall-clock time as the service sees it, injectable for tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

/// A source of the current time. `Clock::system()` in production; tests use
/// `Clock::manual` to move time forward without sleeping.
#[derive(Clone, Debug)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock { manual: None }
    }

    pub fn manual(start: EpochMillis) -> Self {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    pub fn now_millis(&self) -> EpochMillis {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default(),
        }
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance_millis(&self, millis: i64) {
        if let Some(t) = &self.manual {
            t.fetch_add(millis, Ordering::SeqCst);
        }
    }

    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now_millis())
    }
}

/// RFC 3339 UTC with exactly three fraction digits, e.g. `2026-11-23T10:00:00.120Z`:
/// one width for every instant, so the strings sort as the instants do.
pub fn rfc3339(millis: EpochMillis) -> String {
    let secs = millis.div_euclid(1000);
    let formatted = DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_default();
    // smithy writes `…:SS.fffZ` with trailing zeros dropped (or no fraction): keep the seconds.
    let whole = formatted.split(['.', 'Z']).next().unwrap_or_default();
    format!("{whole}.{:03}Z", millis.rem_euclid(1000))
}

/// A timestamp later than `last`: `wanted` if it is, else one millisecond after `last`
/// (both in [`rfc3339`]'s fixed width, so they compare as strings).
pub fn later_than(wanted: &str, last: Option<&str>) -> String {
    match last {
        Some(last) if wanted <= last => rfc3339(parse_rfc3339(last).unwrap_or_default() + 1),
        _ => wanted.to_owned(),
    }
}

pub fn parse_rfc3339(value: &str) -> Option<EpochMillis> {
    let parsed = DateTime::from_str(value, Format::DateTime).ok()?;
    parsed.to_millis().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_rfc3339("not a date"), None);
        // Every instant has the same width, so strings sort as time does.
        assert_eq!(rfc3339(1_764_047_970_540), "2025-11-25T05:19:30.540Z");
        assert_eq!(rfc3339(1_764_047_954_300), "2025-11-25T05:19:14.300Z");
        let mut earlier = rfc3339(1_764_047_970_009);
        for ms in [1_764_047_970_010, 1_764_047_970_100, 1_764_047_971_000] {
            let later = rfc3339(ms);
            assert_eq!(later.len(), earlier.len());
            assert!(later > earlier, "{later} sorts after {earlier}");
            earlier = later;
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance_millis(500);
        assert_eq!(clock.now_millis(), 1_500);
    }
}
