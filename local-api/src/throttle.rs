//! What the HTTP API's route throttling does (`RouteSettings` in `template.yaml`):
//! a token bucket per route, refilled at `rate` requests per second up to `burst`.

use std::sync::Mutex;
use std::time::Instant;

use shared::config::{DEFAULT_PUBLIC_UPLOAD_BURST_LIMIT, DEFAULT_PUBLIC_UPLOAD_RATE_LIMIT};

pub struct Throttle {
    rate_per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Throttle {
    pub fn new(rate_per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Throttle {
            rate_per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// The public upload route's limits: `PUBLIC_UPLOAD_RATE_LIMIT` and
    /// `PUBLIC_UPLOAD_BURST_LIMIT`, defaulting to the template's parameter defaults.
    pub fn public_uploads_from_env() -> Self {
        let read = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .unwrap_or(default)
        };
        Throttle::new(
            read("PUBLIC_UPLOAD_RATE_LIMIT", DEFAULT_PUBLIC_UPLOAD_RATE_LIMIT),
            read(
                "PUBLIC_UPLOAD_BURST_LIMIT",
                f64::from(DEFAULT_PUBLIC_UPLOAD_BURST_LIMIT),
            ) as u32,
        )
    }

    /// Takes one request's token; `false` means answer 429.
    pub fn admit(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate_per_second)
            .min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_admitted_then_refused_until_tokens_refill() {
        let throttle = Throttle::new(0.000_001, 3);
        assert_eq!(
            (0..5).map(|_| throttle.admit()).collect::<Vec<_>>(),
            [true, true, true, false, false]
        );
        let fast = Throttle::new(1_000_000.0, 1);
        assert!(fast.admit());
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(fast.admit(), "refilled");
    }
}
