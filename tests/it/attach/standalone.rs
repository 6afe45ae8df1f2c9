//! One instance attached to one standalone `redis-server`.

use std::time::Duration;

use anyhow::Result;
use sluice_tests::RawClient;
use sluice_tests::plugins;
use sluice_tests::real_server::RealServer;

use super::support::{
    assert_exactly_once, counts, eu_route, instance, pending_count, produce, wait_len,
};

/// A `redis-server` of the test's own, its URL and a client of it.
struct Standalone {
    _redis: RealServer,
    url: String,
    conn: redis::Connection,
}

impl Standalone {
    fn start() -> Result<Standalone> {
        let redis = RealServer::redis()?;
        let url = format!("redis://127.0.0.1:{}", redis.port);
        let conn = redis::Client::open(url.as_str())?.get_connection()?;
        Ok(Standalone {
            _redis: redis,
            url,
            conn,
        })
    }
}

/// An instance named `name` attached to `url`, keeping the `eu` orders in `orders.eu`.
fn eu_instance(url: &str, name: &str) -> Result<sluice_tests::ChildServer> {
    let plugins = plugins::folder(&[("filter", "filter.wasm")])?;
    instance(
        &[url.to_owned()],
        name,
        &plugins,
        &eu_route("eu", "orders", "orders.eu"),
    )
}

#[test]
#[ignore = "needs redis-server (.ci/run installs it)"]
fn a_route_runs_over_a_standalone_server_and_the_instance_serves_no_data() -> Result<()> {
    let Standalone {
        _redis,
        url,
        mut conn,
    } = Standalone::start()?;
    // Entries there before the route starts: `start = "0"` routes them too.
    produce(&mut conn, "orders", 0..100)?;
    let sluice = eu_instance(&url, "a")?;
    produce(&mut conn, "orders", 100..200)?;
    wait_len(&mut conn, "orders.eu", 100, Duration::from_secs(20))?;
    assert_exactly_once(&counts(&mut conn, "orders.eu", "n")?, 200);
    // Every source entry acknowledged: nothing pending in the route's group.
    assert_eq!(pending_count(&mut conn, "orders", "sluice:route:eu")?, 0);

    let mut raw = RawClient::connect(sluice.addr)?;
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(
        raw.cmd(&["SET", "k", "v"])?,
        format!(
            "-ERR this Sluice instance is attached to {url}: it stores no data and runs routes \
             and claim policies only; send data commands to the attached server\r\n"
        )
    );
    assert!(
        raw.cmd(&["XADD", "orders", "*", "a", "b"])?
            .starts_with("-ERR this Sluice")
    );
    let routes = raw.cmd(&["SLUICE", "ROUTES"])?;
    assert!(
        routes.contains("$4\r\nmode\r\n$33\r\nattached exactly-once (same slot)\r\n"),
        "{routes}"
    );
    let info = raw.cmd(&["INFO", "routes"])?;
    for line in [
        "attached:1",
        "attached_mode:standalone",
        "attached_instance:a",
        "attached_commit:function",
        "attached_release:claim-after-idle",
    ] {
        assert!(info.contains(line), "no {line} in {info}");
    }
    Ok(())
}

#[test]
#[ignore = "needs redis-server (.ci/run installs it)"]
fn a_clean_stop_deletes_the_instances_consumer() -> Result<()> {
    let Standalone {
        _redis,
        url,
        mut conn,
    } = Standalone::start()?;
    let sluice = eu_instance(&url, "leaving")?;
    produce(&mut conn, "orders", 0..10)?;
    wait_len(&mut conn, "orders.eu", 5, Duration::from_secs(20))?;
    let consumers = |conn: &mut redis::Connection| -> Result<Vec<String>> {
        let reply: redis::streams::StreamInfoConsumersReply = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg("orders")
            .arg("sluice:route:eu")
            .query(conn)?;
        Ok(reply.consumers.into_iter().map(|c| c.name).collect())
    };
    assert_eq!(consumers(&mut conn)?, ["leaving"]);
    let mut raw = RawClient::connect(sluice.addr)?;
    raw.send_cmd(&[b"SHUTDOWN"])?;
    let _ = raw.read_to_close();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !consumers(&mut conn)?.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the consumer is still there: {:?}",
            consumers(&mut conn)?
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[test]
#[ignore = "needs redis-server (.ci/run installs it)"]
fn an_output_the_destination_refuses_is_reported_and_the_route_goes_on() -> Result<()> {
    let Standalone {
        _redis,
        url,
        mut conn,
    } = Standalone::start()?;
    // The destination holds a string: XADD there gets WRONGTYPE.
    let _: () = redis::cmd("SET")
        .arg("orders.eu")
        .arg("x")
        .query(&mut conn)?;
    let sluice = eu_instance(&url, "a")?;
    produce(&mut conn, "orders", 0..10)?;
    let mut raw = RawClient::connect(sluice.addr)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let routes = raw.cmd(&["SLUICE", "ROUTES"])?;
        if routes.contains("WRONGTYPE") && routes.contains("$9\r\nevents-in\r\n:10\r\n") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{routes}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every source entry was acknowledged once: refused, not retried forever.
    assert_eq!(pending_count(&mut conn, "orders", "sluice:route:eu")?, 0);
    let kept: String = redis::cmd("GET").arg("orders.eu").query(&mut conn)?;
    assert_eq!(kept, "x");
    Ok(())
}

#[test]
#[ignore = "needs redis-server and redis-cli built with TLS (.ci/run installs Debian's)"]
fn an_instance_attaches_over_tls_with_its_own_ca() -> Result<()> {
    let port = sluice_tests::free_port()?;
    let fixture = |name: &str| sluice_tests::tls_fixture(name).display().to_string();
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--tls-cert-file", &fixture("server.crt")])
        .args(["--tls-key-file", &fixture("server.key")])
        .args(["--tls-ca-cert-file", &fixture("ca.crt")])
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let cli = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("redis-cli")
            .args([
                "--tls",
                "--cacert",
                &fixture("ca.crt"),
                "-p",
                &port.to_string(),
            ])
            .args(args)
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let result = (|| -> Result<()> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cli(&["PING"])? != "PONG" {
            anyhow::ensure!(std::time::Instant::now() < deadline, "no TLS redis-server");
            std::thread::sleep(Duration::from_millis(50));
        }
        let plugins = plugins::folder(&[("filter", "filter.wasm")])?;
        let dir = sluice_tests::tempdir()?;
        let config = dir.join("sluice.toml");
        std::fs::write(&config, eu_route("eu", "orders", "orders.eu"))?;
        let url = format!("rediss://127.0.0.1:{port}");
        let _sluice = sluice_tests::ChildServer::start(
            super::support::BIN,
            &dir,
            &[
                "--attach",
                &url,
                "--attach-tls-ca-file",
                &fixture("ca.crt"),
                "--config",
                &config.display().to_string(),
                "--plugins",
                &plugins.display().to_string(),
            ],
        )?;
        for region in ["eu", "us", "eu"] {
            cli(&["XADD", "orders", "*", "region", region])?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while cli(&["XLEN", "orders.eu"])? != "2" {
            anyhow::ensure!(std::time::Instant::now() < deadline, "no outputs over TLS");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}
