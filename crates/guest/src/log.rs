//! The guest's log: one JSON object per line on stderr, which the runtime captures as the
//! sandbox's console, in the TypeScript guest's format (src/guest/log.ts): time, level, msg,
//! then the fields. Tests find the bound port in the "guest listening" record.
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

fn emit(level: &str, msg: &str, fields: Value) {
    let mut record = Map::new();
    record.insert("time".into(), Value::String(iso_time(SystemTime::now())));
    record.insert("level".into(), level.into());
    record.insert("msg".into(), msg.into());
    if let Value::Object(extra) = fields {
        record.extend(extra);
    }
    let mut line = Value::Object(record).to_string();
    line.push('\n');
    // One write per record, so records from several threads never interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

pub fn info(msg: &str, fields: Value) {
    emit("info", msg, fields);
}

pub fn error(msg: &str, fields: Value) {
    emit("error", msg, fields);
}

/// UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ`, as JavaScript's toISOString writes it.
fn iso_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso_time_matches_javascript() {
        assert_eq!(iso_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // new Date(1796437845123).toISOString()
        assert_eq!(iso_time(UNIX_EPOCH + Duration::from_millis(1_796_437_845_123)), "2026-12-05T02:30:45.123Z");
        // A leap day: new Date(951782400000).toISOString()
        assert_eq!(iso_time(UNIX_EPOCH + Duration::from_millis(951_782_400_000)), "2000-02-29T00:00:00.000Z");
    }
}
