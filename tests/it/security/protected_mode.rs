//! Protected mode: with no password for the default user, a server listening on every
//! interface serves loopback clients only; the others are told why and closed. Needs an
//! address of this machine that is not loopback (the interface of its default route).

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use sluice_tests::{Config, RawClient, TestServer, config_pair};

/// The address this machine's default route leaves from (no packet is sent: connecting a UDP
/// socket only picks the route).
fn non_loopback_ip() -> Result<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    socket
        .connect("203.0.113.1:9")
        .context("this test needs a network interface besides loopback (a default route)")?;
    let ip = socket.local_addr()?.ip();
    ensure!(!ip.is_loopback(), "the default route leaves from {ip}");
    Ok(ip)
}

/// A server on every interface (0.0.0.0), protected mode as `config` says; the address to
/// reach it from outside loopback.
fn start_on_all_interfaces(config: Config) -> Result<(TestServer, SocketAddr)> {
    let server = TestServer::start_with(Config {
        bind: "0.0.0.0".into(),
        ..config
    })?;
    let outside = SocketAddr::new(non_loopback_ip()?, server.addr.port());
    Ok((server, outside))
}

fn loopback(server: &TestServer) -> Result<RawClient> {
    RawClient::connect(SocketAddr::from(([127, 0, 0, 1], server.addr.port())))
}

fn denied_text() -> String {
    String::from_utf8_lossy(sluice_server::protected::DENIED_REPLY).into_owned()
}

/// What a client from outside loopback gets: the whole reply up to the close.
fn outside_reply(outside: SocketAddr) -> Result<String> {
    let mut raw = RawClient::connect(outside)?;
    raw.set_timeout(Duration::from_secs(5))?;
    raw.read_to_close()
}

#[test]
fn without_a_password_only_loopback_clients_are_served() -> Result<()> {
    let (server, outside) = start_on_all_interfaces(Config::default())?;
    let reply = outside_reply(outside)?;
    assert!(
        reply.starts_with("-DENIED Sluice is running in protected mode"),
        "{reply}"
    );
    assert_eq!(reply, denied_text());

    let mut local = loopback(&server)?;
    assert_eq!(local.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(local.info_field("stats", "rejected_connections")?, "1");

    // Turned off from loopback, as the message says: outside clients are served at once.
    assert_eq!(
        local.cmd(&["CONFIG", "GET", "protected-mode"])?,
        config_pair("protected-mode", "yes")
    );
    assert_eq!(
        local.cmd(&["CONFIG", "SET", "protected-mode", "maybe"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n"
    );
    assert_eq!(
        local.cmd(&["CONFIG", "SET", "protected-mode", "no"])?,
        "+OK\r\n"
    );
    let mut remote = RawClient::connect(outside)?;
    assert_eq!(remote.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn a_password_or_protected_mode_off_lets_outside_clients_in() -> Result<()> {
    // With a password, outside clients connect and must authenticate like anyone else.
    let (_server, outside) = start_on_all_interfaces(Config {
        requirepass: Some(sluice_server::config::Secret("s3cret".into())),
        ..Config::default()
    })?;
    let mut remote = RawClient::connect(outside)?;
    assert_eq!(
        remote.cmd(&["PING"])?,
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(remote.cmd(&["AUTH", "s3cret"])?, "+OK\r\n");
    assert_eq!(remote.cmd(&["PING"])?, "+PONG\r\n");

    // Off from the start (`--protected-mode no`).
    let (_server, outside) = start_on_all_interfaces(Config {
        protected_mode: false,
        ..Config::default()
    })?;
    let mut remote = RawClient::connect(outside)?;
    assert_eq!(remote.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn setting_a_default_password_at_run_time_lifts_protection() -> Result<()> {
    let (server, outside) = start_on_all_interfaces(Config::default())?;
    assert_eq!(outside_reply(outside)?, denied_text());
    let mut local = loopback(&server)?;
    assert_eq!(
        local.cmd(&["ACL", "SETUSER", "default", "resetpass", ">pw"])?,
        "+OK\r\n"
    );
    let mut remote = RawClient::connect(outside)?;
    assert_eq!(remote.cmd(&["AUTH", "pw"])?, "+OK\r\n");
    Ok(())
}
