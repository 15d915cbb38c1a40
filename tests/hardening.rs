//! Hardening over HTTP against the local stack: the address policy from IANA's
//! special-purpose registries at each entry point (every entry that is not globally
//! reachable, and its IPv4 addresses in every IPv6 form that carries one), a source's
//! hostile Content-Type, and a damaged image's message in words of our own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use integration_tests::source::SourceServer;
use integration_tests::{config, new_org, stack, stack_with, Stack};
use reqwest::Method;
use serde_json::json;
use shared::address_registry::{entries, entry_for, Reachable};
use shared::url_policy::UrlPolicy;

/// One address of every registry entry that is not globally reachable (one its own,
/// not a more specific entry's), and each IPv4 one in every IPv6 form carrying it.
fn refused_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    for entry in entries().iter().filter(|e| e.reachable != Reachable::True) {
        let (first, last) = entry.bounds();
        let own = [first, last]
            .into_iter()
            .find(|&ip| entry_for(ip).is_some_and(|e| std::ptr::eq(e, entry)));
        let Some(ip) = own else { continue };
        // 6to4 and Teredo (N/A) are judged by what they carry: 10.0.0.1 here.
        let ip = match (ip, entry.reachable) {
            (IpAddr::V6(v6), Reachable::NotApplicable) if v6.segments()[0] == 0x2002 => {
                IpAddr::V6(Ipv6Addr::new(0x2002, 0x0a00, 0x0001, 0, 0, 0, 0, 1))
            }
            (IpAddr::V6(_), Reachable::NotApplicable) => IpAddr::V6(Ipv6Addr::new(
                0x2001, 0, 0x0808, 0x0808, 0, 0, 0xf5ff, 0xfffe,
            )),
            _ => ip,
        };
        out.push(ip);
        if let IpAddr::V4(v4) = ip {
            out.extend(carriers(v4).into_iter().map(IpAddr::V6));
        }
    }
    out
}

fn carriers(v4: Ipv4Addr) -> Vec<Ipv6Addr> {
    let n = u32::from(v4);
    let (hi, lo) = ((n >> 16) as u16, n as u16);
    let (nhi, nlo) = ((!n >> 16) as u16, !n as u16);
    vec![
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, hi, lo),
        Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo),
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo),
        Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
        Ipv6Addr::new(0x2001, 0, 0x0808, 0x0808, 0, 0, nhi, nlo),
        Ipv6Addr::new(0x2001, 0, hi, lo, 0, 0, 0xf7f7, 0xf7f7),
    ]
}

fn host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

async fn refused(stack: &Stack, org: &str, body: serde_json::Value) -> String {
    stack
        .call(org, Method::POST, "/v2/files", Some(body))
        .await
        .expect_error(400)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_address_the_registries_refuse_is_refused_as_a_source_and_as_an_external_file() {
    // As deployed: no loopback exception.
    let mut strict = config();
    strict.url_policy = UrlPolicy::default();
    let stack = stack_with(strict).await;
    let org = new_org();
    let addresses = refused_addresses();
    assert!(addresses.len() > 150, "{}", addresses.len());
    for ip in addresses {
        let url = format!("http://{}/report.pdf", host(ip));
        let code = refused(&stack, &org, json!({ "source_url": url })).await;
        assert_eq!(code, "invalid_source_url", "{url}");
        let url = format!("https://{}/report.pdf", host(ip));
        let body = json!({ "custom_download_url": url, "filename": "report.pdf" });
        let code = refused(&stack, &org, body).await;
        assert_eq!(code, "invalid_custom_download_url", "{url}");
    }
    // A public address in the forms that carry one is taken as a link.
    for ip in [
        "8.8.8.8",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        let ip: IpAddr = ip.parse().unwrap();
        let url = format!("https://{}/report.pdf", host(ip));
        let body = json!({ "custom_download_url": url, "filename": "report.pdf" });
        stack
            .call(&org, Method::POST, "/v2/files", Some(body))
            .await
            .expect(201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sources_content_type_is_stored_only_when_it_is_a_valid_type() {
    let stack = stack().await;
    let source = SourceServer::start().await;
    let org = new_org();
    let encode = |t: &str| {
        t.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    for (given, stored) in [
        ("text/csv; charset=utf-8", "text/csv; charset=utf-8"),
        ("application/pdf", "application/pdf"),
        // Not types: the file's type then comes from its name, as with none (`report`
        // has no extension: application/octet-stream).
        (
            "text/html; x=<script>alert(1)</script>",
            "application/octet-stream",
        ),
        ("image/png; name=\"unterminated", "application/octet-stream"),
        ("text/plain, text/html", "application/octet-stream"),
        ("../../etc/passwd", "application/octet-stream"),
        ("text/html;;", "application/octet-stream"),
    ] {
        let url = source.url(&format!("/typed/{}/report", encode(given)));
        let saved = stack
            .call(
                &org,
                Method::POST,
                "/v2/files",
                Some(json!({ "source_url": url })),
            )
            .await;
        assert!(
            saved.status == 201 || saved.status == 202,
            "{given}: {}",
            saved.json
        );
        let id = saved.json["_id"].as_str().unwrap().to_owned();
        let file = stack.until_settled(&org, &id).await;
        assert_eq!(file["status"], "ready", "{given}: {file}");
        assert_eq!(file["mime_type"], stored, "{given}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_damaged_image_is_refused_in_words_of_our_own() {
    let stack = stack().await;
    let org = new_org();
    // A PNG whose header chunk's checksum is wrong.
    let mut png = thumbnail::samples::png(64, 64, false);
    png[29] ^= 0xff;
    let file = stack.new_file(&org, "broken.png", "image/png", &png).await;
    let id = file["_id"].as_str().unwrap();
    let answer = stack
        .call(&org, Method::GET, &format!("/v1/files/{id}/preview"), None)
        .await;
    let message = answer.json["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(answer.expect_error(422), "unreadable_image");
    assert_eq!(
        message,
        "not a readable PNG: the file is damaged or cut short"
    );
}
