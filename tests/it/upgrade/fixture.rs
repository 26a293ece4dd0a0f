//! A database as one released version left it, kept as a file the upgrade test loads: the
//! migrations that version had, every table's rows, and the secrets a site and a browser held
//! (so the test can use the sessions and tokens that version issued).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "mykey-upgrade-fixture/1";

/// `tests/upgrade/<version>/fixture.json`, one per version recorded.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upgrade")
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Fixture {
    pub format: String,
    /// The crate version that wrote the rows.
    pub version: String,
    /// The migrations that version had applied, oldest first.
    pub migrations: Vec<String>,
    /// Every table with rows, in creation order (parents before children).
    pub tables: Vec<Table>,
    pub held: Held,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// SQLite's declared type of each column (`BOOLEAN` and `BLOB` need care on PostgreSQL).
    pub types: Vec<String>,
    /// Values as JSON: text, integers, null; BLOB columns as hex text.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// What the site, the browser and the operator held when the version was recorded.
#[derive(Debug, Serialize, Deserialize)]
pub struct Held {
    /// The settings that version ran with (long lifetimes, so its tokens outlive the fixture).
    pub settings: Vec<(String, String)>,
    pub key_encryption_key: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub sub: String,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: String,
    /// The browser's cookies (`mykey_session`, `mykey_browser`).
    pub cookies: Vec<(String, String)>,
    /// A code issued and not yet redeemed, with its PKCE verifier.
    pub code: String,
    pub code_verifier: String,
}

impl Fixture {
    pub fn load(path: &Path) -> Fixture {
        let text = std::fs::read_to_string(path).expect("fixture file");
        let f: Fixture = serde_json::from_str(&text).expect("fixture JSON");
        assert_eq!(f.format, FORMAT, "{}", path.display());
        f
    }

    /// Every fixture recorded so far.
    pub fn all() -> Vec<(PathBuf, Fixture)> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir())
            .expect("tests/upgrade")
            .map(|e| e.expect("entry").path().join("fixture.json"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found
            .into_iter()
            .map(|p| {
                let f = Fixture::load(&p);
                (p, f)
            })
            .collect()
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
}

#[derive(QueryableByName)]
struct Rows {
    #[diesel(sql_type = Text)]
    rows: String,
}

/// The migrations applied and every table's rows of a SQLite database.
pub fn read_sqlite(path: &Path) -> (Vec<String>, Vec<Table>) {
    let mut c = SqliteConnection::establish(&path.display().to_string()).expect("open");
    let migrations = diesel::sql_query(
        "SELECT version AS name FROM __diesel_schema_migrations ORDER BY version",
    )
    .load::<Name>(&mut c)
    .expect("migrations")
    .into_iter()
    .map(|n| n.name)
    .collect();
    let names = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name != '__diesel_schema_migrations' ORDER BY rowid",
    )
    .load::<Name>(&mut c)
    .expect("tables");
    let mut tables = Vec::new();
    for Name { name } in names {
        let cols = diesel::sql_query(format!(
            "SELECT name, type FROM pragma_table_info('{name}') ORDER BY cid"
        ))
        .load::<Column>(&mut c)
        .expect("columns");
        let select: Vec<String> = cols
            .iter()
            .map(|col| match col.r#type.as_str() {
                "BLOB" => format!("hex({})", col.name),
                _ => col.name.clone(),
            })
            .collect();
        let Rows { rows } = diesel::sql_query(format!(
            "SELECT COALESCE(json_group_array(json_array({})), '[]') AS rows FROM {name}",
            select.join(", ")
        ))
        .get_result::<Rows>(&mut c)
        .expect("rows");
        let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(&rows).expect("json");
        if rows.is_empty() {
            continue;
        }
        tables.push(Table {
            name,
            columns: cols.iter().map(|c| c.name.clone()).collect(),
            types: cols.iter().map(|c| c.r#type.clone()).collect(),
            rows,
        });
    }
    (migrations, tables)
}

/// A value as an SQL literal of the backend.
fn literal(value: &serde_json::Value, ty: &str, postgres: bool) -> String {
    use serde_json::Value as V;
    match (value, ty) {
        (V::Null, _) => "NULL".to_owned(),
        (V::Number(n), "BOOLEAN") => if n.as_i64() == Some(0) {
            "FALSE"
        } else {
            "TRUE"
        }
        .to_owned(),
        (V::String(hex), "BLOB") if postgres => format!("'\\x{hex}'::bytea"),
        (V::String(hex), "BLOB") => format!("X'{hex}'"),
        (V::String(s), _) => format!("'{}'", s.replace('\'', "''")),
        (V::Number(n), _) => n.to_string(),
        (V::Bool(b), _) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        (other, _) => panic!("unexpected value {other}"),
    }
}

/// Inserts the fixture's rows into a database at the fixture's schema.
pub fn insert(conn: &mut impl SimpleConnection, tables: &[Table], postgres: bool) {
    for t in tables {
        let mut sql = String::new();
        for row in &t.rows {
            let values: Vec<String> = row
                .iter()
                .zip(&t.types)
                .map(|(v, ty)| literal(v, ty, postgres))
                .collect();
            sql.push_str(&format!(
                "INSERT INTO {} ({}) VALUES ({});\n",
                t.name,
                t.columns.join(", "),
                values.join(", ")
            ));
        }
        conn.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("rows of {}: {e}", t.name));
    }
}
