//! PostgreSQL on the worker's own event loop, for the statements on the hottest paths.
//!
//! Every other query runs through diesel's synchronous connection on the blocking pool
//! ([`super::Db::read`]): the worker hands the query to a blocking thread, which sends it,
//! sleeps until PostgreSQL answers and wakes the worker again. On a busy core those hand-offs
//! cost about as much as the query. The single sign-on read, the code exchange, the access
//! token read and the refresh run here instead, on `diesel-async`'s connection
//! (tokio-postgres): the worker sends the statement and waits for the answer in its own
//! `epoll`, as it waits for HTTP.
//!
//! Connections follow libpq's `sslmode`: `disable` is plain; `prefer` (libpq's default) uses
//! TLS when the server offers it; `require` uses TLS or fails. As libpq does in these modes,
//! the server's certificate is not checked: the traffic is encrypted, the peer not
//! authenticated. A URL that asks for more (`sslmode=verify-ca` or `verify-full`,
//! `sslrootcert`) or has another option tokio-postgres does not know is served by the
//! synchronous driver alone: slower, never weaker.

use std::sync::Arc;
use std::time::Duration;

use diesel::ConnectionResult;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::StoreError;

/// How long a request waits for a connection (a free one from the pool, or a new one) before
/// it is answered 503, as the synchronous pool's checkout timeout.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// How the statements on the asynchronous connections commit. Their only writes are the code
/// exchange and the refresh ([`super::exchange`], [`super::grants`]); logins, revocations,
/// keys, the console and everything else commit on the synchronous connections, always
/// durably.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenCommits {
    /// As the database server is configured: by PostgreSQL's default a commit is answered once
    /// its WAL is flushed to disk (and to any synchronous standby).
    #[default]
    Durable,
    /// `synchronous_commit = off` on these connections: a commit is answered before its WAL
    /// is flushed, which PostgreSQL does within three `wal_writer_delay`s (0.6 s by default).
    /// A crash of the database server or its machine in that time forgets the last tokens
    /// issued, whole (the code exchange or refresh is one statement; nothing is half done),
    /// never corrupts; their holders are refused and log in again. SQLite's `synchronous =
    /// NORMAL` makes the same trade on a crash of the machine.
    Asynchronous,
}

/// A pool of asynchronous PostgreSQL connections. Cheap to clone.
#[derive(Clone)]
pub struct AsyncPg {
    pool: Pool<AsyncPgConnection>,
}

impl std::fmt::Debug for AsyncPg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPg")
            .field("status", &self.pool.status())
            .finish()
    }
}

impl AsyncPg {
    /// A pool of up to `max_size` connections to `url`, opened on first use. `None` when
    /// tokio-postgres cannot honour every option of the URL (see the module's documentation);
    /// the reason is logged, never the URL, which may hold a password.
    pub fn open(url: &str, max_size: usize) -> Option<AsyncPg> {
        AsyncPg::open_with(url, max_size, TokenCommits::Durable)
    }

    /// [`AsyncPg::open`], committing as `commits` says.
    pub fn open_with(url: &str, max_size: usize, commits: TokenCommits) -> Option<AsyncPg> {
        let mut config: tokio_postgres::Config = match url.parse() {
            Ok(config) => config,
            Err(e) => {
                tracing::info!(
                    reason = %e,
                    "the PostgreSQL URL has options only libpq knows; every query uses the \
                     synchronous driver"
                );
                return None;
            }
        };
        if commits == TokenCommits::Asynchronous {
            // Added to the URL's own `options`, after them, so that this one counts.
            let options = match config.get_options() {
                Some(given) if !given.trim().is_empty() => {
                    format!("{given} -c synchronous_commit=off")
                }
                _ => "-c synchronous_commit=off".to_owned(),
            };
            config.options(options);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CHECKOUT_TIMEOUT);
        }
        let tls = MakeRustlsConnect::new(encrypt_only_tls());
        let mut manager = ManagerConfig::default();
        // A `SELECT 1` before every use would double the round trips; a broken connection is
        // noticed by its closed socket and by the failing query (see `AsyncPg::read`).
        manager.recycling_method = RecyclingMethod::Fast;
        manager.custom_setup = Box::new(move |_| connect(config.clone(), tls.clone()).boxed());
        let manager = AsyncDieselConnectionManager::new_with_config(url, manager);
        let pool = Pool::builder(manager).max_size(max_size.max(1)).build();
        pool.ok().map(|pool| AsyncPg { pool })
    }

    /// Runs the read `f`. A read that meets a dead pooled connection (the database restarted)
    /// is tried on the next one, as [`super::Db::read_blocking`] does.
    pub async fn read<T>(
        &self,
        mut f: impl AsyncFnMut(&mut AsyncPgConnection) -> diesel::QueryResult<T>,
    ) -> Result<T, StoreError> {
        let mut result = Err(StoreError::Unavailable(
            "no live database connection".to_owned(),
        ));
        // Every idle connection may be dead after a restart: up to one more than the pool holds.
        for _ in 0..=self.pool.status().max_size {
            let mut conn = self.checkout().await?;
            result = f(&mut conn).await.map_err(StoreError::from_query);
            if !matches!(result, Err(StoreError::Unavailable(_))) {
                break;
            }
            drop(Object::take(conn));
        }
        result
    }

    /// Runs `f`, one statement that is atomic by itself, once: a lost answer may hide a
    /// commit, so a dead connection's error is returned and the caller decides.
    pub async fn statement<T>(
        &self,
        f: impl AsyncFnOnce(&mut AsyncPgConnection) -> diesel::QueryResult<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.checkout().await?;
        let result = f(&mut conn).await.map_err(StoreError::from_query);
        if matches!(result, Err(StoreError::Unavailable(_))) {
            drop(Object::take(conn));
        }
        result
    }

    async fn checkout(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        match tokio::time::timeout(CHECKOUT_TIMEOUT, self.pool.get()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(StoreError::Unavailable(e.to_string())),
            Err(_) => Err(StoreError::Unavailable(
                "timed out waiting for a database connection".to_owned(),
            )),
        }
    }
}

/// The one row `query` selects, or `None`: diesel's `get_result(..).optional()` on the
/// asynchronous connection, for the reads that have a synchronous twin.
pub async fn optional_row<'q, Q, U>(
    conn: &mut AsyncPgConnection,
    query: Q,
) -> diesel::QueryResult<Option<U>>
where
    Q: diesel_async::methods::LoadQuery<'q, AsyncPgConnection, U> + 'q,
    U: Send + 'static,
{
    use diesel::OptionalExtension;
    diesel_async::RunQueryDsl::get_result(query, conn)
        .await
        .optional()
}

/// Opens one connection. Its socket is driven by a task on the runtime of the worker that
/// opened it; the pool may lend it to another worker, whose queries then cross threads.
async fn connect(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
) -> ConnectionResult<AsyncPgConnection> {
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

/// TLS as libpq's `sslmode=prefer` and `require` use it: encrypted, the certificate unchecked.
fn encrypt_only_tls() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
        .with_no_client_auth()
}

/// Accepts any server certificate, but checks that the server holds its key (the handshake
/// signature), as libpq does without a root certificate.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
