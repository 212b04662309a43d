//! Failed-login limits, in memory, over a sliding window.
//!
//! Three counters: per (account, client), per client, per account. A client that fails
//! `max` times on one account is refused on that account for the window; a client that
//! fails `20 × max` times anywhere is refused everywhere; an account that fails `10 × max`
//! times from all clients together is refused for everyone for the window. An attacker on
//! one address therefore locks only themselves out; only a distributed attack can lock the
//! real user out, and only until the window slides past it.
//!
//! An attempt is reserved before the password is checked ([`LoginLimiter::reserve`]), and
//! attempts still being checked count against every budget: parallel guesses cannot all
//! pass while the first ones are still hashing. Once a budget is taken by failures and
//! attempts in flight, a new attempt waits for one in flight to end: a failure spends the
//! budget (the waiters are then refused), a success gives its attempt back and clears the
//! (account, client) counter (a waiter goes ahead). An attempt that ends any other way (a
//! wrong password, an error, a dropped request) counts as a failure.
//!
//! Memory is bounded whatever an attacker sends (issue 11, finding 4): a key is the SHA-256
//! of its parts, never the typed string; each key keeps at most its budget of failure times;
//! and at most [`MAX_KEYS`] keys are kept, the least recently used forgotten first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lru::LruCache;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

/// The most keys with failures kept; past it the least recently used is forgotten.
pub const MAX_KEYS: usize = 100_000;

/// A limiter key: the SHA-256 of its kind and parts.
type Key = [u8; 32];

fn key(kind: &str, parts: &[&str]) -> Key {
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update([0]);
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}
/// The failed-login limiter.
#[derive(Debug)]
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    counters: Mutex<Counters>,
    /// Woken whenever an attempt ends.
    ended: Notify,
}

#[derive(Debug)]
struct Counters {
    /// Failure times per key, oldest first, within the window (at most the key's budget).
    failures: LruCache<Key, VecDeque<Instant>>,
    /// Attempts being checked right now, per key (bounded by the requests in flight).
    in_flight: HashMap<Key, u32>,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            failures: LruCache::new(NonZeroUsize::new(MAX_KEYS).expect("not zero")),
            in_flight: HashMap::new(),
        }
    }
}

/// An attempt being checked. It counts as a failure when dropped, unless it
/// [`succeeded`](Attempt::succeeded).
#[derive(Debug)]
#[must_use = "an attempt counts as a failure unless it succeeded"]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    keys: [(Key, u32); 3],
    succeeded: bool,
}

impl Attempt<'_> {
    /// The attempt succeeded: it is given back, and the (account, client) counter cleared.
    pub fn succeeded(mut self) {
        self.succeeded = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut counters = self.limiter.lock();
        let max = self.limiter.max;
        for (key, factor) in &self.keys {
            if let Some(n) = counters.in_flight.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counters.in_flight.remove(key);
                }
            }
            if !self.succeeded {
                let times = counters.failures.get_or_insert_mut(*key, VecDeque::new);
                times.push_back(now);
                // Only the newest `budget` failures decide anything.
                while times.len() > (max * factor) as usize {
                    times.pop_front();
                }
            }
        }
        if self.succeeded {
            counters.failures.pop(&self.keys[0].0);
        }
        drop(counters);
        self.limiter.ended.notify_waiters();
    }
}

impl LoginLimiter {
    /// `max` failures per (account, client) per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max: max.max(1),
            window,
            counters: Mutex::default(),
            ended: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(account: &str, client: IpAddr) -> [(Key, u32); 3] {
        let account = account.to_lowercase();
        let client = super::throttle::client_key(client).to_string();
        [
            (key("pair", &[&account, &client]), 1),
            (key("client", &[&client]), 20),
            (key("account", &[&account]), 10),
        ]
    }

    /// Keys with failures held right now (at most [`MAX_KEYS`]).
    pub fn len(&self) -> usize {
        self.lock().failures.len()
    }

    /// Whether no failures are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one attempt from every budget of (`account`, `client`) before the password is
    /// checked. While attempts in flight hold the rest of a budget, waits for one to end.
    ///
    /// # Errors
    /// How long until the next attempt is allowed, when failures spent a budget.
    pub async fn reserve(&self, account: &str, client: IpAddr) -> Result<Attempt<'_>, Duration> {
        let keys = Self::keys(account, client);
        loop {
            // Registered before the counters are read, so no ending is missed.
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match self.try_reserve(&keys)? {
                true => {
                    return Ok(Attempt {
                        limiter: self,
                        keys,
                        succeeded: false,
                    })
                }
                false => ended.await,
            }
        }
    }

    /// Under the lock: `Ok(true)` when the attempt was taken, `Ok(false)` when attempts in
    /// flight hold the rest of a budget, the wait when failures spent one.
    fn try_reserve(&self, keys: &[(Key, u32); 3]) -> Result<bool, Duration> {
        let now = Instant::now();
        let mut counters = self.lock();
        let mut busy = false;
        for (key, factor) in keys {
            let budget = self.max * factor;
            let failed = match counters.failures.get_mut(key) {
                Some(times) => {
                    while times
                        .front()
                        .is_some_and(|t| now.duration_since(*t) > self.window)
                    {
                        times.pop_front();
                    }
                    if times.len() as u32 >= budget {
                        let oldest = *times.front().expect("non-empty");
                        return Err(self.window.saturating_sub(now.duration_since(oldest)));
                    }
                    times.len() as u32
                }
                None => 0,
            };
            let in_flight = counters.in_flight.get(key).copied().unwrap_or(0);
            busy |= failed + in_flight >= budget;
        }
        if busy {
            return Ok(false);
        }
        for (key, _) in keys {
            *counters.in_flight.entry(*key).or_default() += 1;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    /// Whether `reserve` answers at once (it waits while attempts in flight hold the budget).
    async fn now_or_waits<'a>(
        limiter: &'a LoginLimiter,
        account: &str,
        client: IpAddr,
    ) -> Option<Result<Attempt<'a>, Duration>> {
        tokio::time::timeout(Duration::from_millis(50), limiter.reserve(account, client))
            .await
            .ok()
    }

    #[tokio::test]
    async fn an_attacker_locks_only_their_own_address_out() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            drop(limiter.reserve("alice", ip(1)).await.unwrap());
        }
        assert!(limiter.reserve("alice", ip(1)).await.is_err());
        limiter.reserve("alice", ip(2)).await.unwrap().succeeded();
        limiter.reserve("bob", ip(1)).await.unwrap().succeeded();
    }

    #[tokio::test]
    async fn attempts_in_flight_hold_the_budget_until_they_end() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(60));
        // Two guesses still hashing hold the whole budget: a third waits.
        let first = limiter.reserve("alice", ip(1)).await.unwrap();
        let second = limiter.reserve("alice", ip(1)).await.unwrap();
        assert!(now_or_waits(&limiter, "alice", ip(1)).await.is_none());
        // Both fail: the budget is spent, and a new attempt is refused at once.
        drop(first);
        drop(second);
        let refused = now_or_waits(&limiter, "alice", ip(1)).await;
        assert!(matches!(refused, Some(Err(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn a_waiting_attempt_goes_ahead_when_one_in_flight_succeeds() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        let first = limiter.reserve("alice", ip(1)).await.unwrap();
        let waiting = limiter.reserve("alice", ip(1));
        tokio::pin!(waiting);
        let early = tokio::time::timeout(Duration::from_millis(50), waiting.as_mut()).await;
        assert!(early.is_err(), "the second attempt went ahead of the first");
        first.succeeded();
        let second = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("no longer waiting");
        second.unwrap().succeeded();
    }

    #[tokio::test]
    async fn a_success_gives_back_its_attempt_on_the_shared_budgets() {
        // max 1: the account budget is 10 from all clients.
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        for i in 0..30 {
            limiter.reserve("alice", ip(i)).await.unwrap().succeeded();
        }
        limiter.reserve("alice", ip(100)).await.unwrap().succeeded();
    }

    #[tokio::test]
    async fn a_success_clears_the_pair_and_the_window_slides() {
        let limiter = LoginLimiter::new(2, Duration::from_millis(50));
        drop(limiter.reserve("alice", ip(1)).await.unwrap());
        limiter.reserve("alice", ip(1)).await.unwrap().succeeded();
        drop(limiter.reserve("alice", ip(1)).await.unwrap());
        drop(limiter.reserve("alice", ip(1)).await.unwrap());
        assert!(limiter.reserve("alice", ip(1)).await.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        drop(limiter.reserve("alice", ip(1)).await.unwrap());
    }
}
