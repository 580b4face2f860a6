//! Europe/Paris local time without a time-zone database.
//!
//! France follows the EU rule in force since 1996: UTC+2 from the last Sunday of March 01:00 UTC
//! to the last Sunday of October 01:00 UTC, UTC+1 otherwise. Reports only need run timestamps
//! (recent dates), so this rule is enough and spares the build a tz database (chrono-tz).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

/// `at` as Paris wall-clock time, with its offset.
pub fn to_paris(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&offset_at(at))
}

fn offset_at(at: DateTime<Utc>) -> FixedOffset {
    let year = at.year();
    let summer = match (switch_instant(year, 3), switch_instant(year, 10)) {
        (Some(start), Some(end)) => at >= start && at < end,
        _ => false,
    };
    let hours = if summer { 2 } else { 1 };
    FixedOffset::east_opt(hours * 3600).unwrap_or(FixedOffset::east_opt(0).expect("zero offset is valid"))
}

/// 01:00 UTC on the last Sunday of `month` (March or October, both 31 days long).
fn switch_instant(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - chrono::Days::new(u64::from(back));
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

/// `2026-11-25 17:13:04 UTC`
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `2026-11-25 18:13:04 (UTC+01:00)`
pub fn format_paris(at: DateTime<Utc>) -> String {
    to_paris(at).format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn winter_and_summer_offsets() {
        assert_eq!(format_paris(utc("2026-01-15T12:00:00Z")), "2026-01-15 13:00:00 (UTC+01:00)");
        assert_eq!(format_paris(utc("2026-07-15T12:00:00Z")), "2026-07-15 14:00:00 (UTC+02:00)");
    }

    #[test]
    fn switches_at_one_utc_on_the_last_sunday() {
        // 2026: 29 March and 25 October are the last Sundays.
        assert_eq!(to_paris(utc("2026-03-29T00:59:59Z")).offset().local_minus_utc(), 3600);
        assert_eq!(to_paris(utc("2026-03-29T01:00:00Z")).offset().local_minus_utc(), 7200);
        assert_eq!(to_paris(utc("2026-10-25T00:59:59Z")).offset().local_minus_utc(), 7200);
        assert_eq!(to_paris(utc("2026-10-25T01:00:00Z")).offset().local_minus_utc(), 3600);
        // 2027: 28 March, 31 October (the 31st itself is a Sunday).
        assert_eq!(to_paris(utc("2027-10-31T00:30:00Z")).offset().local_minus_utc(), 7200);
        assert_eq!(to_paris(utc("2027-10-31T01:30:00Z")).offset().local_minus_utc(), 3600);
    }

    #[test]
    fn utc_format() {
        assert_eq!(format_utc(utc("2026-11-25T17:13:04.5Z")), "2026-11-25 17:13:04 UTC");
    }
}
