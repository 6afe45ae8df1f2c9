//! TLS on `tls-port` beside the plain port: round trips through a rustls client and through
//! the real `redis-cli --tls`, client certificates (`tls-ca-cert-file`, `tls-auth-clients`),
//! bytes that are not TLS, silent clients, and certificate files that stop the start.

use std::process::Command;

use anyhow::{Context, Result, bail};
use rustls::AlertDescription;
use sluice_tests::{Config, RawClient, TestServer, TlsStream, config_pair, redis_cli, tls_fixture};

/// The TLS alert the server sent, found in `err`'s chain.
fn alert(err: &anyhow::Error) -> Option<AlertDescription> {
    err.chain().find_map(|cause| {
        let tls = cause.downcast_ref::<rustls::Error>().or_else(|| {
            cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        match tls {
            Some(rustls::Error::AlertReceived(alert)) => Some(*alert),
            _ => None,
        }
    })
}

/// Connects over TLS and sends PING: the reply, or the alert the server refused us with.
fn ping_tls(server: &TestServer, client_cert: Option<&str>) -> Result<Result<String, String>> {
    let attempt = server
        .tls_raw(client_cert)
        .and_then(|mut tls| tls.cmd(&["PING"]));
    match attempt {
        Ok(reply) => Ok(Ok(reply)),
        Err(e) => match alert(&e) {
            Some(alert) => Ok(Err(format!("{alert:?}"))),
            None => Err(e),
        },
    }
}

fn with_ca(auth: &str) -> Result<Config> {
    Ok(Config {
        tls_ca_cert_file: Some(tls_fixture("ca.crt")),
        tls_auth_clients: auth.parse().map_err(anyhow::Error::msg)?,
        ..Config::default()
    })
}

#[test]
fn tls_round_trip_gives_exact_replies() -> Result<()> {
    let server = TestServer::start_tls(Config::default())?;
    let mut tls = server.tls_raw(None)?;
    assert_eq!(tls.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(tls.cmd(&["XADD", "s", "1-1", "f", "v"])?, "$3\r\n1-1\r\n");
    assert_eq!(
        tls.cmd(&["XRANGE", "s", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // A reply bigger than a TLS record and than the server's write batch.
    let big = "x".repeat(200_000);
    assert_eq!(
        tls.cmd(&["XADD", "s", "1-2", "big", &big])?,
        "$3\r\n1-2\r\n"
    );
    assert_eq!(
        tls.cmd(&["XRANGE", "s", "1-2", "1-2"])?,
        format!("*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$3\r\nbig\r\n$200000\r\n{big}\r\n")
    );
    // QUIT ends the session cleanly: the server sends close_notify before closing.
    assert_eq!(tls.cmd(&["QUIT"])?, "+OK\r\n");
    assert_eq!(tls.read_to_close()?, "");
    Ok(())
}

#[test]
fn plain_tcp_keeps_working_beside_tls() -> Result<()> {
    let server = TestServer::start_tls(Config::default())?;
    let tls_addr = server.tls_addr.context("TLS address")?;
    assert_ne!(tls_addr.port(), server.addr.port());
    let mut tls = server.tls_raw(None)?;
    let mut plain = server.raw()?;
    assert_eq!(
        plain.cmd(&["XADD", "s", "1-1", "from", "plain"])?,
        "$3\r\n1-1\r\n"
    );
    assert_eq!(
        tls.cmd(&["XADD", "s", "1-2", "from", "tls"])?,
        "$3\r\n1-2\r\n"
    );
    let both = "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\nfrom\r\n$5\r\nplain\r\n\
                *2\r\n$3\r\n1-2\r\n*2\r\n$4\r\nfrom\r\n$3\r\ntls\r\n";
    assert_eq!(plain.cmd(&["XRANGE", "s", "-", "+"])?, both);
    assert_eq!(tls.cmd(&["XRANGE", "s", "-", "+"])?, both);
    let port = tls_addr.port().to_string();
    assert_eq!(
        plain.cmd(&["CONFIG", "GET", "tls-port"])?,
        config_pair("tls-port", &port)
    );
    // The TLS client is listed with the TLS port as its local address.
    let list = tls.cmd(&["CLIENT", "INFO"])?;
    assert!(list.contains(&format!(" laddr={tls_addr} ")), "{list}");
    Ok(())
}

#[test]
fn client_certificates_are_required_when_a_ca_is_set() -> Result<()> {
    let server = TestServer::start_tls(with_ca("yes")?)?;
    assert_eq!(ping_tls(&server, None)?, Err("CertificateRequired".into()));
    assert_eq!(
        ping_tls(&server, Some("untrusted-client"))?,
        Err("UnknownCA".into())
    );
    assert_eq!(ping_tls(&server, Some("client"))?, Ok("+PONG\r\n".into()));
    // Refused handshakes leave the server serving.
    assert_eq!(server.raw()?.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn tls_auth_clients_optional_and_no() -> Result<()> {
    let optional = TestServer::start_tls(with_ca("optional")?)?;
    assert_eq!(ping_tls(&optional, None)?, Ok("+PONG\r\n".into()));
    assert_eq!(ping_tls(&optional, Some("client"))?, Ok("+PONG\r\n".into()));
    assert_eq!(
        ping_tls(&optional, Some("untrusted-client"))?,
        Err("UnknownCA".into())
    );
    let no = TestServer::start_tls(with_ca("no")?)?;
    assert_eq!(ping_tls(&no, None)?, Ok("+PONG\r\n".into()));
    assert_eq!(
        no.raw()?.cmd(&["CONFIG", "GET", "tls-auth-clients"])?,
        config_pair("tls-auth-clients", "no")
    );
    Ok(())
}

#[test]
fn garbage_and_silent_clients_do_not_hurt_the_tls_port() -> Result<()> {
    let server = TestServer::start_tls(Config::default())?;
    let tls_addr = server.tls_addr.context("TLS address")?;
    // Connects and never says anything: its handshake waits in its own task.
    let _silent = RawClient::connect(tls_addr)?;
    // Plain RESP, and bytes that look like a TLS record header with an impossible length.
    for garbage in [&b"PING\r\n"[..], b"\x16\x03\x01\xff\xff\x01\x02\x03"] {
        let mut raw = RawClient::connect(tls_addr)?;
        raw.send(garbage)?;
        let answer = raw.read_to_close()?.into_bytes();
        // A TLS alert record (type 21, TLS 1.2 framing, 2 bytes): fatal (2) decode_error (50).
        assert_eq!(answer, [21, 3, 3, 0, 2, 2, 50], "{garbage:?}");
    }
    let mut tls: RawClient<TlsStream> = server.tls_raw(None)?;
    assert_eq!(tls.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(server.raw()?.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

/// Needs `redis-cli` (Debian's `redis-tools`), which a fresh machine lacks: `.ci/run` installs
/// it and runs this test; by hand, `cargo test -p sluice-tests --test it -- --ignored tls::redis_cli`.
#[test]
#[ignore = "needs redis-cli (apt-get install redis-tools); .ci/run runs it"]
fn redis_cli_speaks_tls_to_sluice() -> Result<()> {
    let server = TestServer::start_tls(Config::default())?;
    let port = server.tls_addr.context("TLS address")?.port().to_string();
    let ca = tls_fixture("ca.crt");
    let ca = ca.to_str().context("fixture path")?;
    let cli = |command: &[&str]| -> Result<String> {
        let mut args = vec!["--tls", "--cacert", ca, "-h", "127.0.0.1", "-p", &port];
        args.extend_from_slice(command);
        let out = redis_cli::run(&args)?;
        if !out.status.success() {
            bail!("redis-cli failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8(out.stdout)?)
    };
    assert_eq!(cli(&["PING"])?, "PONG\n");
    assert_eq!(cli(&["XADD", "s", "1-1", "f", "v"])?, "1-1\n");
    assert_eq!(cli(&["XADD", "s", "1-2", "g", "w"])?, "1-2\n");
    assert_eq!(cli(&["XRANGE", "s", "-", "+"])?, "1-1\nf\nv\n1-2\ng\nw\n");
    assert_eq!(cli(&["XLEN", "s"])?, "2\n");

    // With client certificates required: redis-cli shows its own.
    let server = TestServer::start_tls(with_ca("yes")?)?;
    let port = server.tls_addr.context("TLS address")?.port().to_string();
    let cert = tls_fixture("client.crt");
    let key = tls_fixture("client.key");
    let (cert, key) = (
        cert.to_str().context("fixture path")?,
        key.to_str().context("fixture path")?,
    );
    let base = ["--tls", "--cacert", ca, "-h", "127.0.0.1", "-p", &port];
    let with_cert = [&base[..], &["--cert", cert, "--key", key, "PING"]].concat();
    let out = redis_cli::run(&with_cert)?;
    assert_eq!(String::from_utf8(out.stdout)?, "PONG\n");
    let without = [&base[..], &["PING"]].concat();
    let out = redis_cli::run(&without)?;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout)?, "");
    assert_eq!(
        String::from_utf8(out.stderr)?,
        "Error: Server closed the connection\n"
    );
    Ok(())
}

#[test]
fn bad_certificate_files_stop_the_start() -> Result<()> {
    let dir = sluice_tests::tempdir()?;
    let missing = dir.join("missing.crt");
    let key = tls_fixture("server.key");
    let run = |cert: &std::path::Path| -> Result<(bool, String)> {
        let out = Command::new(env!("CARGO_BIN_EXE_sluice-under-test"))
            .arg("--port")
            .arg("0")
            .arg("--dir")
            .arg(&dir)
            .args(["--appendonly", "no", "--tls-port", "0", "--tls-cert-file"])
            .arg(cert)
            .arg("--tls-key-file")
            .arg(&key)
            .output()?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    };
    let (ok, stderr) = run(&missing)?;
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "tls-cert-file {}: cannot read:",
            missing.display()
        )),
        "{stderr}"
    );
    // A file that holds no certificate (the key).
    let (ok, stderr) = run(&key)?;
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "tls-cert-file {}: no PEM certificate in the file",
            key.display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
