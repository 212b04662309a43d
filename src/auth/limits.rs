//! Failed-login limits, in memory, over a sliding window.
//!
//! Three counters: per (account, client), per client, per account. A client that fails
//! `max` times on one account is refused on that account for the window; a client that
//! fails `20 × max` times anywhere is refused everywhere; an account that fails `10 × max`
//! times from all clients together is refused for everyone for the window. An attacker on
//! one address therefore locks only themselves out; only a distributed attack can lock the
//! real user out, and only until the window slides past it. A success clears the
//! (account, client) counter.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The failed-login limiter.
#[derive(Debug)]
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `max` failures per (account, client) per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max: max.max(1),
            window,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, client: IpAddr) -> [(String, u32); 3] {
        let account = account.to_lowercase();
        [
            (format!("pair:{account}:{client}"), 1),
            (format!("client:{client}"), 20),
            (format!("account:{account}"), 10),
        ]
    }

    /// Whether a login attempt is allowed now; when not, how long until it is.
    pub fn check(&self, account: &str, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, factor) in Self::keys(account, client) {
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    times.pop_front();
                }
                if times.len() as u32 >= self.max * factor {
                    let oldest = *times.front().expect("non-empty");
                    return Err(self.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn failed(&self, account: &str, client: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, t| {
                t.back()
                    .is_some_and(|t| now.duration_since(*t) <= self.window)
            });
        }
        for (key, factor) in Self::keys(account, client) {
            let times = failures.entry(key).or_default();
            times.push_back(now);
            while times.len() as u32 > self.max * factor {
                times.pop_front();
            }
        }
    }

    /// Records a success: clears the (account, client) counter.
    pub fn succeeded(&self, account: &str, client: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&Self::keys(account, client)[0].0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attacker_locks_only_their_own_address_out() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let attacker: IpAddr = "10.0.0.1".parse().unwrap();
        let user: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check("alice", attacker).is_ok());
            limiter.failed("alice", attacker);
        }
        assert!(limiter.check("alice", attacker).is_err());
        assert!(limiter.check("alice", user).is_ok());
        assert!(limiter.check("bob", attacker).is_ok());
    }

    #[test]
    fn a_success_clears_the_pair_and_the_window_slides() {
        let limiter = LoginLimiter::new(2, Duration::from_millis(50));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.failed("alice", ip);
        limiter.succeeded("alice", ip);
        limiter.failed("alice", ip);
        assert!(limiter.check("alice", ip).is_ok());
        limiter.failed("alice", ip);
        assert!(limiter.check("alice", ip).is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.check("alice", ip).is_ok());
    }
}
