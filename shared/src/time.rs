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

/// RFC 3339 UTC with millisecond precision, e.g. `2026-11-23T10:00:00.123Z`.
pub fn rfc3339(millis: EpochMillis) -> String {
    let secs = millis.div_euclid(1000);
    let nanos = (millis.rem_euclid(1000) * 1_000_000) as u32;
    let formatted = DateTime::from_secs_and_nanos(secs, nanos)
        .fmt(Format::DateTime)
        .unwrap_or_default();
    // smithy drops a zero fraction; keep the width constant so strings sort by time.
    if formatted.contains('.') {
        formatted
    } else {
        formatted.replace('Z', ".000Z")
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
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance_millis(500);
        assert_eq!(clock.now_millis(), 1_500);
    }
}
