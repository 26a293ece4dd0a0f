//! Tests of the results table and of splicing it into BENCHMARKS.md.

use super::*;

fn scenario(target: &str, id: &str, rate: f64, errors: u64) -> Record {
    Record::Scenario(ScenarioResult {
        target: target.to_owned(),
        scenario: id.to_owned(),
        rate,
        ok: 100,
        errors,
        p50_ms: 0.5,
        p99_ms: 2.0,
        server_cpu_pct: Some(99.0),
        loadgen_cpu_pct: Some(60.0),
        load_avg: Some(1.5),
        connections: 32,
        seconds: 10.0,
        error_samples: vec![],
    })
}

fn rss(target: &str, idle: Option<u64>, peak: Option<u64>) -> Record {
    Record::Rss(RssResult {
        target: target.to_owned(),
        idle_kib: idle,
        peak_kib: peak,
    })
}

fn header() -> Header {
    Header {
        machine: "AMD EPYC, 2 cores".into(),
        date: "2026-01-01".into(),
        commit: "abc1234".into(),
        settings: "server on CPU 0".into(),
    }
}

#[test]
fn each_figure_has_its_ratio_to_node_and_a_missed_goal_says_no() {
    let records = merge_rss(vec![
        scenario("node", "S1", 12_000.0, 0),
        scenario("mykey-sqlite", "S1", 66_000.0, 0),
        scenario("node", "S5", 700.0, 0),
        scenario("mykey-sqlite", "S5", 1_400.0, 0),
        rss("mykey-sqlite", Some(20_000), None),
        rss("mykey-sqlite", None, Some(70_000)),
    ]);
    let md = markdown(&records, &header());
    let s1 = md.lines().find(|l| l.starts_with("| S1 ")).expect("S1 row");
    assert!(s1.contains("| 66,000 | 5.5× | yes |"), "{s1}");
    let s5 = md.lines().find(|l| l.starts_with("| S5 ")).expect("S5 row");
    assert!(s5.contains("| 1,400 | 2.0× | **no** |"), "{s5}");
    let s10 = md
        .lines()
        .find(|l| l.starts_with("| S10 "))
        .expect("S10 row");
    assert!(s10.contains("20.5 / 71.7"), "{s10}");
    assert!(
        s10.ends_with("**no** |"),
        "a 71.7 MB peak misses 60 MB: {s10}"
    );
    let s8 = md.lines().find(|l| l.starts_with("| S8 ")).expect("S8 row");
    assert!(s8.ends_with("| — |"), "no S8 runs, no goal verdict: {s8}");
}

fn ingest(target: &str, step: &str, seconds: f64, peak_kib: u64) -> Record {
    Record::Ingest(IngestResult {
        target: target.to_owned(),
        step: step.to_owned(),
        file_bytes: 38_200_000,
        entries: Some(1_000_000),
        newly_revoked: Some(1_000_000),
        no_longer_listed: Some(0),
        import_seconds: seconds,
        importer_peak_kib: Some(peak_kib),
        peak_method: "wait4".to_owned(),
        server_load_seconds: Some(4.2),
        server_cpu_seconds: Some(0.3),
        server_rss_kib: Some(60_000),
        server_hwm_kib: Some(90_000),
        errors: vec![],
    })
}

fn fanout(target: &str, p99_ms: f64, delivered: u64) -> Record {
    Record::Fanout(FanoutResult {
        target: target.to_owned(),
        clients: 10,
        browsers: 1000,
        sessions: 10_000,
        seeding_seconds: 12.0,
        import_seconds: 0.4,
        delivered,
        duplicates: 0,
        first_ms: 900.0,
        p50_ms: 1500.0,
        p99_ms,
        max_ms: p99_ms + 10.0,
        p99_after_ingest_ms: p99_ms - 400.0,
        rate: 9000.0,
        server_cpu_seconds: Some(1.5),
        server_cpu_pct: Some(75.0),
        loadgen_cpu_pct: Some(20.0),
        load_avg: Some(2.0),
        claim_failures: Some(0),
        errors: 10_000 - delivered,
        error_samples: vec![],
    })
}

#[test]
fn s8_and_s9_fill_their_rows_for_mykey_and_say_n_a_for_node() {
    let records = vec![
        scenario("node", "S1", 12_000.0, 0),
        scenario("mykey-sqlite", "S1", 66_000.0, 0),
        ingest("mykey-sqlite", "full", 1.25, 120_000),
        ingest("mykey-sqlite", "diff", 1.5, 150_000),
        fanout("mykey-sqlite", 1_850.0, 10_000),
        ingest("mykey-postgres", "full", 2.0, 130_000),
        fanout("mykey-postgres", 2_500.0, 9_990),
    ];
    let md = markdown(&records, &header());
    let s8 = md.lines().find(|l| l.starts_with("| S8 ")).expect("S8 row");
    assert!(s8.contains("1,000,000 entries"), "{s8}");
    assert!(
        s8.contains(
            "| n/a | 1.25 s / 123 MB; diff: 1.50 s / 154 MB | — | 2.00 s / 133 MB | — | yes |"
        ),
        "{s8}"
    );
    let s9 = md.lines().find(|l| l.starts_with("| S9 ")).expect("S9 row");
    assert!(s9.contains("10,000 client sessions"), "{s9}");
    assert!(
        s9.contains("| n/a | 1.45 s (1.85 s from the start) | — |"),
        "{s9}"
    );
    assert!(
        s9.contains(
            "2.10 s (2.50 s from the start) ⚠ 10 errors (9990 of 10000 delivered), not valid"
        ),
        "{s9}"
    );
    assert!(s9.ends_with("| yes |"), "{s9}");
    assert!(md.contains("| mykey SQLite (pinned) | full | 1,000,000 (1,000,000 / 0) | 38.2 MB | 1.25 s | 122.9 MB |"));
    assert!(md.contains("| mykey SQLite (pinned) | 10,000 (1000 × 10) | 12.0 s | 0.40 s | 900 / 1500 / 1850 / 1860 | 1450 | 9,000 | 1.50 s (75%) |"));
    assert!(md.contains("- mykey-postgres S9: 10 errors, 9990 of 10000 logout tokens"));
}

#[test]
fn s8_misses_its_goal_over_ten_seconds_or_256_mb_and_s9_over_two_seconds_after_ingest() {
    let slow = markdown(
        &[
            ingest("mykey-sqlite", "full", 11.0, 100_000),
            fanout("mykey-sqlite", 2_500.0, 10_000),
        ],
        &header(),
    );
    let big = markdown(&[ingest("mykey-sqlite", "full", 2.0, 300_000)], &header());
    for (md, row) in [(&slow, "| S8 "), (&slow, "| S9 "), (&big, "| S8 ")] {
        let line = md.lines().find(|l| l.starts_with(row)).expect("row");
        assert!(line.ends_with("| **no** |"), "{line}");
    }
}

#[test]
fn s9_is_judged_from_the_end_of_the_import_when_the_crl_is_ingested() {
    // 2.1 s from the import's start, of which the import took 0.4 s: 1.7 s after ingest.
    let md = markdown(&[fanout("mykey-sqlite", 2_100.0, 10_000)], &header());
    let s9 = md.lines().find(|l| l.starts_with("| S9 ")).expect("S9 row");
    assert!(s9.contains("1.70 s (2.10 s from the start)"), "{s9}");
    assert!(s9.ends_with("| yes |"), "{s9}");
}

#[test]
fn a_figure_with_errors_is_marked_not_valid_and_gets_no_ratio() {
    let records = vec![
        scenario("node", "S3", 6_500.0, 0),
        scenario("mykey-sqlite", "S3", 40_000.0, 3),
    ];
    let md = markdown(&records, &header());
    let s3 = md.lines().find(|l| l.starts_with("| S3 ")).expect("S3 row");
    assert!(
        s3.contains("40,000 ⚠ 3 errors, not valid | — | **no** (errors) |"),
        "{s3}"
    );
    assert!(md.contains("Runs with errors"));
}

#[test]
fn splicing_replaces_only_the_results_part_and_keeps_other_sections() {
    let doc = format!(
        "# Benchmarks\n\nIntro.\n\n{START_MARK}\nold table\n{END_MARK}\n\n## Notes\nkept\n"
    );
    let out = splice(&doc, "new table\n");
    assert!(out.contains("Intro."));
    assert!(out.contains("new table"));
    assert!(!out.contains("old table"));
    assert!(out.ends_with("## Notes\nkept\n"));
    let fresh = splice("# Benchmarks\n", "t\n");
    assert!(fresh.contains("## Results") && fresh.contains(START_MARK) && fresh.contains(END_MARK));
}
