//! SIGKILL under load, five times (long battery: `scripts/battery.sh`). `humit serve` runs
//! as a child process under a registration load and is killed with SIGKILL, then started
//! again, five times. Requests cut by a kill may fail (the process is gone); a 201 must
//! never be lost and nothing may be applied twice: afterwards every registration in the log
//! is exactly one read-model row, and every name answered 201 is there once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use humit::startup::Mode;

use super::shutdown::assert_users_exact;
use crate::child::{one_connection_per_request, start_child, wait_until_relaying};
use crate::helpers::{migrate, spawn_with, test_config};
use crate::techfesia::seed_user;

const KILLS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long battery: scripts/battery.sh"]
async fn sigkill_five_times_under_load_loses_and_doubles_nothing() {
    let config = test_config();
    migrate(&config.database_url).await;
    let client = one_connection_per_request();
    let created: Arc<Mutex<Vec<String>>> = Arc::default();
    let (mut sent, mut failed, mut server_errors) = (0usize, 0usize, 0usize);
    for round in 0..KILLS {
        let (mut child, base, _) = start_child(&config, &format!("kill{round}"), &[]).await;
        wait_until_relaying(&client, &base).await;
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..6)
            .map(|w| {
                let (client, base, stop, created) =
                    (client.clone(), base.clone(), stop.clone(), created.clone());
                tokio::spawn(async move {
                    let (mut sent, mut failed, mut server_errors) = (0, 0, 0);
                    let mut i = 0;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let name = format!("kill_r{round}_w{w}_n{i}");
                        sent += 1;
                        match client
                            .post(format!("{base}/users/"))
                            .json(&seed_user(&name, "Kill Password 1"))
                            .send()
                            .await
                        {
                            Ok(r) if r.status() == 201 => created.lock().unwrap().push(name),
                            Ok(r) if r.status().is_server_error() => server_errors += 1,
                            Ok(_) => {}
                            Err(_) => {
                                failed += 1;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    (sent, failed, server_errors)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let pid = child.id().unwrap();
        tokio::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .await
            .unwrap();
        let _ = child.wait().await;
        stop.store(true, Ordering::SeqCst);
        for worker in workers {
            let (s, f, e) = worker.await.unwrap();
            sent += s;
            failed += f;
            server_errors += e;
        }
    }
    // A last process (in this test) catches everything up.
    let app = spawn_with(config, Mode::ALL).await;
    app.settle().await;
    let created = created.lock().unwrap().clone();
    let created: Vec<&String> = created.iter().collect();
    let registered = assert_users_exact(&app.pool, &created).await;
    assert_eq!(server_errors, 0);
    eprintln!(
        "sigkill: {KILLS} kills, {sent} requests, {} answered 201 (all kept), {failed} cut by a kill, 0 5xx; {registered} registered = read-model rows",
        created.len()
    );
    app.stop().await;
}
