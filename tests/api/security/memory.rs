//! Finding 4: what attackers send cannot grow the server's memory. The real binary runs as a
//! child process (so its resident memory is its own), takes 20,000 password reset requests
//! with unique 60 KiB usernames, and must end within 50 MiB of where it started. The
//! requests come from 2,000 source addresses (127.10.x.y on loopback), as from a botnet or
//! an IPv6 host's many /64s, so no per-client budget hides what the server keeps per name.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;

use crate::child::{rss_kib, start_child, wait_until_relaying};
use crate::helpers::test_config;

const REQUESTS: usize = 20_000;
const NAME_BYTES: usize = 60 * 1024;
const ALLOWED_GROWTH_KIB: u64 = 50 * 1024;
const SOURCES: usize = 2_000;

/// One client per loopback source address, without keep-alive.
fn clients() -> Vec<reqwest::Client> {
    (0..SOURCES)
        .map(|i| {
            let source = std::net::Ipv4Addr::new(127, 10, (i / 200) as u8, (i % 200 + 1) as u8);
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::V4(source))
                // A connection per request, closed after it: what is measured is what the
                // server keeps per request, not 2,000 idle connections' buffers.
                .pool_max_idle_per_host(0)
                .build()
                .unwrap()
        })
        .collect()
}

/// Sends `count` reset requests, 32 at a time, each for a unique 60 KiB username starting
/// at `first`, request `i` from source `i % SOURCES`.
async fn flood(clients: &[reqwest::Client], url: &str, first: usize, count: usize) {
    let statuses: Vec<StatusCode> = futures::stream::iter(first..first + count)
        .map(|i| {
            let prefix = format!("{i:08}");
            let name = prefix.clone() + &"a".repeat(NAME_BYTES - prefix.len());
            let body = serde_json::json!({ "username": name }).to_string();
            let client = &clients[i % clients.len()];
            async move {
                client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("the server answers")
                    .status()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for status in statuses {
        assert!(
            status.is_client_error() || status == StatusCode::ACCEPTED,
            "{status}"
        );
    }
}

#[tokio::test]
async fn unique_huge_usernames_do_not_grow_the_servers_memory() {
    let config = test_config();
    // One client sends everything: the general limit is not what is measured here.
    let unlimited = [
        ("HUMIT_ANON_RATE_PER_MINUTE", "100000000"),
        ("HUMIT_ANON_BURST", "100000000"),
        ("RUST_LOG", "warn"),
    ];
    let (mut child, base, _) = start_child(&config, "memory", &unlimited).await;
    let pid = child.id().expect("running");
    wait_until_relaying(&reqwest::Client::new(), &base).await;
    let url = format!("{base}/auth/password/reset/");
    let clients = clients();
    // Warm up buffers, pools and the allocator, then measure.
    flood(&clients, &url, 0, 500).await;
    let before = rss_kib(pid);
    flood(&clients, &url, 500, REQUESTS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    let _ = child.kill().await;
    eprintln!("resident memory: {before} KiB before, {after} KiB after {REQUESTS} requests");
    assert!(
        after <= before + ALLOWED_GROWTH_KIB,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}
