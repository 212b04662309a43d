//! The general per-client request limit on the unauthenticated routes (issue 11, finding 3),
//! and the one place a client address becomes a limiter key.
//!
//! A client is keyed by its address, an IPv6 client by its /64 (one subscriber's network:
//! a host picks any address inside it at will). The limit is a GCRA token bucket from
//! [`governor`] (a well-kept crate, lock-free, a few words per key): `burst` requests at
//! once, then one more every `60 / per_minute` seconds. Keys whose bucket is full again are
//! forgotten once more than [`MAX_KEYS`] are held, so memory stays bounded.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Above this many keys, keys with a full bucket are pruned.
pub const MAX_KEYS: usize = 100_000;

/// The key a client is limited by: its IPv4 address, or its IPv6 /64 (an IPv4-mapped IPv6
/// address is its IPv4 address).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// The general per-client limit.
#[derive(Debug)]
pub struct ClientThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl ClientThrottle {
    /// `burst` requests at once per client, refilled at `per_minute` (both at least 1).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    /// Takes one request from `client`'s budget.
    ///
    /// # Errors
    /// How long until the next request is allowed, when the budget is spent.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Clients held right now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no client is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A per-user limit (upload URLs per user per minute): `per_minute` at once, refilled over
/// the minute. Keys are user ids (signed-in callers only), pruned past [`MAX_KEYS`].
#[derive(Debug)]
pub struct UserThrottle {
    limiter: governor::DefaultKeyedRateLimiter<String>,
}

impl UserThrottle {
    /// `per_minute` requests per user per minute (at least 1).
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Takes one request from `user_id`'s budget.
    ///
    /// # Errors
    /// How long until the next request is allowed, when the budget is spent.
    pub fn check(&self, user_id: &str) -> Result<(), Duration> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&user_id.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_by_its_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_client_spends_its_burst_and_others_keep_theirs() {
        let throttle = ClientThrottle::new(1, 2);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(throttle.check(one).is_ok());
        assert!(throttle.check(one).is_ok());
        let wait = throttle.check(one).unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(throttle.check(two).is_ok());
    }
}
