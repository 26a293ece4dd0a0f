//! Integration tests: one binary, one module per area.

/// One scene, two tests: `name::on_sqlite` runs `scene(Db::Sqlite)` on a fresh SQLite file and
/// `name::on_postgres` runs `scene(Db::Postgres)` on a fresh PostgreSQL database (created on
/// the server of `MYKEY_TEST_POSTGRES_URL`). `sync` for a scene that is not async.
macro_rules! on_both_databases {
    (sync $name:ident, $scene:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn on_sqlite() {
                ($scene)($crate::provider::support::Db::Sqlite)
            }

            #[test]
            fn on_postgres() {
                ($scene)($crate::provider::support::Db::Postgres)
            }
        }
    };
    ($name:ident, $scene:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                ($scene)($crate::provider::support::Db::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                ($scene)($crate::provider::support::Db::Postgres).await
            }
        }
    };
}

mod admin;
mod architecture;
mod backup;
mod browser;
mod fapi;
mod helper;
pub mod identity;
mod jose;
mod operator;
mod packaging;
mod provider;
mod revocation;
mod softcard;
mod ssf;
mod store;
mod testkit;
mod upgrade;
mod verify;
