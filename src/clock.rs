//! The provider's source of time: the system clock, or a manual one that tests advance.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;

/// Cheap to clone; all clones of a manual clock move together.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time (manual clocks only move by `advance`).
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { offset: None }
    }

    /// A clock that runs with the system but can be pushed forward by tests, so expiry is
    /// tested without sleeping.
    pub fn adjustable() -> Clock {
        Clock {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        match &self.offset {
            Some(o) => now + time::Duration::seconds(o.load(Ordering::Relaxed)),
            None => now,
        }
    }

    /// Unix seconds.
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves an adjustable clock forward; a system clock ignores this.
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(o) = &self.offset {
            o.fetch_add(by.as_secs() as i64, Ordering::Relaxed);
        }
    }
}

/// Unix seconds as RFC 3339 UTC (the seconds themselves when out of range), for tables, logs
/// and exports.
pub fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}
