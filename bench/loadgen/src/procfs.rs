//! Reads a server process's CPU time and memory from Linux `/proc` (proc(5)).

/// Clock ticks per second of `/proc/<pid>/stat`: USER_HZ, which the Linux ABI fixes at 100.
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds of all threads of `pid` so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_seconds(&text)
}

fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    // proc(5): the command name in parentheses may hold spaces; fields restart after ')'.
    // utime and stime are fields 14 and 15, i.e. the 12th and 13th after the name.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// The 1-minute load average of the machine (`/proc/loadavg`).
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// A `kB` line of `/proc/<pid>/status`, e.g. `VmRSS` (resident now) or `VmHWM` (peak).
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&text, key)
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_a_command_name_with_spaces() {
        let stat = "4242 (my server) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_cpu_seconds(stat), Some(3.0));
    }

    #[test]
    fn memory_lines_are_read_in_kib() {
        let status = "Name:\tmykey-connect\nVmHWM:\t   51234 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(51234));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_readable_cpu_time_and_resident_size() {
        let me = std::process::id();
        assert!(cpu_seconds(me).is_some());
        assert!(status_kib(me, "VmRSS").is_some_and(|kib| kib > 0));
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}
