//! The provider as a service: readiness for systemd (`Type=notify`: `READY=1` on the socket in
//! `$NOTIFY_SOCKET`, the sd_notify protocol, written with std's Unix datagram socket) and the
//! container health check (`mykey-connect healthcheck`, a GET of its own `/healthz`, so that an
//! image needs no shell or curl).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::time::Duration;

/// Sends a state (`READY=1`, `STOPPING=1`, `STATUS=…`) to the service manager. `Ok(false)`
/// when there is none (`$NOTIFY_SOCKET` unset): run by hand, or not `Type=notify`.
pub fn notify(state: &str) -> std::io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = std::os::unix::net::UnixDatagram::unbound()?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    match bytes.strip_prefix(b"@") {
        // An abstract socket (systemd uses one for user managers and containers).
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &addr)?;
        }
        _ => {
            socket.send_to(state.as_bytes(), &path)?;
        }
    }
    Ok(true)
}

/// Tells the service manager the provider is serving; a failure is logged, not fatal.
pub fn ready(listen: &str) {
    match notify(&format!("READY=1\nSTATUS=serving on {listen}")) {
        Ok(true) => tracing::debug!("told the service manager the provider is ready"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell the service manager the provider is ready")
        }
    }
}

/// Tells the service manager the provider is stopping.
pub fn stopping() {
    if let Err(e) = notify("STOPPING=1") {
        tracing::warn!(error = %e, "cannot tell the service manager the provider is stopping");
    }
}

/// Where to reach a provider that listens on `listen` from this machine: an unspecified address
/// (`0.0.0.0`, `::`) is reached on loopback.
fn local_address(listen: &str) -> Result<SocketAddr, String> {
    let mut addr = listen
        .to_socket_addrs()
        .map_err(|e| format!("listen address {listen:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("listen address {listen:?} names no address"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(addr)
}

/// `GET /healthz` of the provider listening on `listen`; `Ok` with its status line when it
/// answers 200 within `timeout`.
pub fn healthcheck(listen: &str, timeout: Duration) -> Result<String, String> {
    let addr = local_address(listen)?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(4096)
        .read_to_end(&mut answer)
        .map_err(|e| format!("{addr}: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let status = text.lines().next().unwrap_or_default().to_owned();
    if status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200") {
        Ok(status)
    } else {
        Err(format!("{addr} answered {status:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_checked_on_loopback() {
        assert_eq!(
            local_address("0.0.0.0:8080").expect("v4"),
            "127.0.0.1:8080".parse().expect("addr")
        );
        assert_eq!(
            local_address("[::]:8080").expect("v6"),
            "[::1]:8080".parse().expect("addr")
        );
        assert_eq!(
            local_address("192.0.2.7:80").expect("as is"),
            "192.0.2.7:80".parse().expect("addr")
        );
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let e = healthcheck(&format!("127.0.0.1:{port}"), Duration::from_secs(2))
            .expect_err("nothing listens");
        assert!(e.contains(&port.to_string()), "{e}");
    }
}
