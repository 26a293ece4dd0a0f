//! Per-address token buckets for the card endpoints (docs/card-login.md §7).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `burst` requests at once, refilled at `per_second`.
    pub fn new(burst: u32, per_second: f64) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst),
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `addr`; `false` means over the limit.
    pub fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        if buckets.len() > 100_000 {
            // Bounded memory: forget everyone rather than grow without limit.
            buckets.clear();
        }
        let (tokens, at) = buckets.entry(addr).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
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
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_refused_until_tokens_refill() {
        let limiter = RateLimiter::new(3, 1.0);
        let addr: IpAddr = "192.0.2.1".parse().expect("ip");
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(addr, t0)));
        assert!(!limiter.allow(addr, t0));
        assert!(limiter.allow(addr, t0 + Duration::from_secs(1)));
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limiter.allow(other, t0));
    }
}
