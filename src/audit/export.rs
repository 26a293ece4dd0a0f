//! JSON Lines export: one entry per line with its chain fields, so an export verifies alone.

use std::io::Write;

use serde_json::{json, Value};

use crate::store::audit::LogRow;

/// One entry as exported (and as the admin API returns it): `data` as JSON, `time` as
/// RFC 3339 next to the Unix seconds the hash covers.
pub fn entry_json(row: &LogRow) -> Value {
    json!({
        "seq": row.seq,
        "time": row.time,
        "time_rfc3339": crate::clock::rfc3339(row.time),
        "kind": row.kind,
        "actor": row.actor,
        "client_id": row.client_id,
        "person_id": row.person_id,
        "data": serde_json::from_str::<Value>(&row.data).unwrap_or(Value::Null),
        "data_text": row.data,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    })
}

/// Writes `rows` as JSON Lines.
pub fn write_jsonl(out: &mut impl Write, rows: &[LogRow]) -> std::io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, &entry_json(row))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
