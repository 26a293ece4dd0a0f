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
    assert!(md.contains("| S8 CRL ingest | TODO: comes with the revocation work | TODO |"));
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
