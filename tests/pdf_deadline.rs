//! PDFs whose drawing never ends in practice: form XObjects nested, each drawing the
//! next ten times. The local API draws PDFs in a child process of its binary, as the
//! preview function does on Lambda. Past the operation budget (twelve deep: 10^12
//! drawings) the child stops itself and the preview answers 422 "too complex"; within
//! the budget but slow to draw (four deep: ten thousand full-page fills at 2048 px) it
//! is killed at the time limit, 422. After each 422 this process's CPU falls back to idle within a
//! second, and no child is left. (Alone in its test binary: the CPU measured is this
//! test's.)

use std::path::PathBuf;
use std::time::Duration;

use integration_tests::{config, new_org, stack_with_pdf_child};
use reqwest::Method;

fn local_api_binary() -> PathBuf {
    integration_tests::built(&["-p", "local-api"]).join("local-api")
}

/// CPU seconds this process has used (all its threads), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // After the command name in parentheses: state is field 3; utime, stime 14 and 15.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Processes whose parent is this one.
fn children() -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
            rest.split(' ').nth(1) == Some(me.as_str())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_that_never_finishes_drawing_is_stopped_at_the_limit() {
    let mut limited = config();
    limited.previews.timeout = Duration::from_secs(8);
    // A debug build counts about 70,000 operations a second.
    limited.previews.max_draw_operations = 100_000;
    let s = stack_with_pdf_child(limited, local_api_binary()).await;
    let org = new_org();
    for (depth, said) in [(12, "too complex to preview"), (4, "longer than 8000 ms")] {
        let pdf = thumbnail::samples::pdf_recursive(depth, 10);
        let file = s
            .new_file(&org, "nested.pdf", "application/pdf", &pdf)
            .await;
        let id = file["_id"].as_str().unwrap();
        let answer = s
            .call(
                &org,
                Method::GET,
                &format!("/v1/files/{id}/preview?w=2048"),
                None,
            )
            .await;
        let message = answer.json["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            answer.expect_error(422),
            "unreadable_image",
            "depth {depth}"
        );
        assert!(message.contains(said), "depth {depth}: {message}");

        // The drawing ended with the answer: within a second, this process is idle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = cpu_seconds();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let used = cpu_seconds() - before;
        assert!(
            used < 0.2,
            "depth {depth}: {used:.2} s of CPU in the second after the 422"
        );
        assert_eq!(children(), Vec::<String>::new(), "no decoder left running");
    }
}
