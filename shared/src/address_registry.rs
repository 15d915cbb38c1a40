//! Which IP addresses are globally reachable unicast, from IANA's IPv4 and IPv6
//! Special-Purpose Address Registries (their CSV files as published, in `shared/data/`,
//! read at first use). Every block whose most specific entry is not "Globally Reachable:
//! True" is refused (False, and the deprecated entries with no value), as is multicast,
//! which has registries of its own.
//!
//! An IPv6 address that carries an IPv4 address is judged by that one too: IPv4-mapped
//! (`::ffff:a.b.c.d`, judged as the IPv4 address it stands for), IPv4-compatible
//! (`::a.b.c.d`), IPv4-translated (SIIT, `::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`, and
//! the local-use `64:ff9b:1::/48`, refused by its own entry), 6to4 (`2002::/16`) and
//! Teredo (`2001::/32`: its server and its obfuscated client). The two whose own entry
//! says N/A (6to4, Teredo) pass only on the addresses they carry.
//!
//! To update: replace the CSV files with IANA's current ones; `cargo test` checks every
//! entry of the new table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

const IPV4_REGISTRY: &str = include_str!("../data/iana-ipv4-special-registry-1.csv");
const IPV6_REGISTRY: &str = include_str!("../data/iana-ipv6-special-registry-1.csv");

/// An entry's "Globally Reachable" column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reachable {
    True,
    False,
    /// N/A: depends on what the address carries (6to4, Teredo).
    NotApplicable,
    /// Blank: a deprecated block.
    Unset,
}

/// One block of an entry (an entry may list several).
#[derive(Clone, Debug)]
pub struct Entry {
    pub network: IpAddr,
    pub prefix: u8,
    pub name: String,
    pub reachable: Reachable,
}

impl Entry {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_bits(u32::from(net), u32::from(ip), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_bits(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }

    /// The block's first and last address.
    pub fn bounds(&self) -> (IpAddr, IpAddr) {
        match self.network {
            IpAddr::V4(net) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                let first = u32::from(net) & !host;
                (IpAddr::V4(first.into()), IpAddr::V4((first | host).into()))
            }
            IpAddr::V6(net) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                let first = u128::from(net) & !host;
                (IpAddr::V6(first.into()), IpAddr::V6((first | host).into()))
            }
        }
    }
}

fn prefix_bits<T>(net: T, ip: T, prefix: u8, width: u32) -> bool
where
    T: Copy + std::ops::Shr<u32, Output = T> + PartialEq,
{
    let shift = width - u32::from(prefix);
    if shift >= width {
        return true;
    }
    (net >> shift) == (ip >> shift)
}

/// Both registries' entries.
pub fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut all = parse(IPV4_REGISTRY);
        all.extend(parse(IPV6_REGISTRY));
        all
    })
}

/// The most specific entry that holds `ip`.
pub fn entry_for(ip: IpAddr) -> Option<&'static Entry> {
    entries()
        .iter()
        .filter(|e| e.contains(ip))
        .max_by_key(|e| e.prefix)
}

/// Whether `ip` is a globally reachable unicast address.
pub fn is_globally_reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    !ip.is_multicast() && entry_for(IpAddr::V4(ip)).is_none_or(|e| e.reachable == Reachable::True)
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    // An IPv4-mapped address is the IPv4 address, on a dual-stack socket.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    if ip.is_multicast() {
        return false;
    }
    let carried = embedded_ipv4(ip);
    if !carried.iter().all(|&v4| is_global_v4(v4)) {
        return false;
    }
    match entry_for(IpAddr::V6(ip)).map(|e| e.reachable) {
        None | Some(Reachable::True) => true,
        Some(Reachable::NotApplicable) => !carried.is_empty(),
        Some(Reachable::False | Reachable::Unset) => false,
    }
}

/// The IPv4 addresses an IPv6 address carries (none for most).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let last32 = || Ipv4Addr::from(((u32::from(s[6])) << 16) | u32::from(s[7]));
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d, beyond :: and ::1.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => vec![last32()],
        // IPv4-mapped and IPv4-translated (SIIT).
        [0, 0, 0, 0, 0xffff, 0, ..] | [0, 0, 0, 0, 0, 0xffff, ..] => vec![last32()],
        // NAT64, the well-known prefix and the local-use one (with a /96 inside it).
        [0x64, 0xff9b, 0, 0, 0, 0, ..] | [0x64, 0xff9b, 1, ..] => vec![last32()],
        // 6to4: 2002:AABB:CCDD::/48.
        [0x2002, hi, lo, ..] => vec![Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))],
        // Teredo: 2001:0:SERVER:SERVER:flags:port:CLIENT:CLIENT, the client inverted.
        [0x2001, 0, s1, s2, _, _, c1, c2] => vec![
            Ipv4Addr::from((u32::from(s1) << 16) | u32::from(s2)),
            Ipv4Addr::from(!((u32::from(c1) << 16) | u32::from(c2))),
        ],
        _ => Vec::new(),
    }
}

/// The registry's CSV: a header, then one entry per record; the address block may list
/// several blocks ("a/32, b/32") and carry a footnote mark ("192.0.0.0/24 [2]"), as may
/// the "Globally Reachable" value ("False [1]").
fn parse(csv: &str) -> Vec<Entry> {
    let records = records(csv);
    let header = &records[0];
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("the registry has a {name} column"))
    };
    let (block, name, reachable) = (
        column("Address Block"),
        column("Name"),
        column("Globally Reachable"),
    );
    let mut entries = Vec::new();
    for record in &records[1..] {
        let value = without_footnote(&record[reachable]);
        let reachable = match value {
            "True" => Reachable::True,
            "False" => Reachable::False,
            "N/A" => Reachable::NotApplicable,
            "" => Reachable::Unset,
            other => panic!("unknown Globally Reachable value {other:?}"),
        };
        for cidr in record[block].split(',') {
            let cidr = without_footnote(cidr);
            let (address, prefix) = cidr
                .split_once('/')
                .unwrap_or_else(|| panic!("a block: {cidr:?}"));
            entries.push(Entry {
                network: address.parse().unwrap_or_else(|_| panic!("{cidr:?}")),
                prefix: prefix.parse().unwrap_or_else(|_| panic!("{cidr:?}")),
                name: record[name].clone(),
                reachable,
            });
        }
    }
    entries
}

fn without_footnote(value: &str) -> &str {
    let value = value.trim();
    match value.find(" [") {
        Some(at) => value[..at].trim(),
        None => value,
    }
}

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
fn records(csv: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses of each entry that no more specific entry holds: its first, second,
    /// middle and last address.
    fn samples(entry: &Entry) -> Vec<IpAddr> {
        let (first, last) = entry.bounds();
        let points = match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let (a, b) = (u32::from(a), u32::from(b));
                [a, a.saturating_add(1).min(b), a + (b - a) / 2, b]
                    .map(|n| IpAddr::V4(n.into()))
                    .to_vec()
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let (a, b) = (u128::from(a), u128::from(b));
                [a, a.saturating_add(1).min(b), a + (b - a) / 2, b]
                    .map(|n| IpAddr::V6(n.into()))
                    .to_vec()
            }
            _ => unreachable!(),
        };
        points
            .into_iter()
            .filter(|&ip| entry_for(ip).is_some_and(|e| std::ptr::eq(e, entry)))
            .collect()
    }

    #[test]
    fn the_registries_are_read_whole() {
        let (v4, v6): (Vec<_>, Vec<_>) = entries().iter().partition(|e| e.network.is_ipv4());
        // As published (2026): 26 IPv4 blocks (one entry lists two), 25 IPv6 blocks.
        assert_eq!(v4.len(), 26);
        assert_eq!(v6.len(), 25);
        let loopback = entry_for("127.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(
            (loopback.name.as_str(), loopback.reachable),
            ("Loopback", Reachable::False)
        );
        let teredo = entry_for("2001::1".parse().unwrap()).unwrap();
        assert_eq!(teredo.reachable, Reachable::NotApplicable);
        let deprecated = entry_for("2001:10::1".parse().unwrap()).unwrap();
        assert_eq!(deprecated.reachable, Reachable::Unset);
    }

    /// The table generated from the registries: every entry that is not globally
    /// reachable refuses each of its addresses; every reachable one accepts them (where
    /// what they carry, if anything, is reachable).
    #[test]
    fn every_entry_of_the_registries_decides_its_addresses() {
        let mut checked = 0;
        for entry in entries() {
            for ip in samples(entry) {
                let carried_ok = match ip {
                    IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                        embedded_ipv4(v6).iter().all(|&v4| is_global_v4(v4))
                    }
                    _ => true,
                };
                let expected = match entry.reachable {
                    Reachable::True => carried_ok,
                    Reachable::False | Reachable::Unset => match ip {
                        // Mapped addresses are the IPv4 address they stand for.
                        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(is_global_v4),
                        IpAddr::V4(_) => false,
                    },
                    Reachable::NotApplicable => carried_ok,
                };
                assert_eq!(
                    is_globally_reachable(ip),
                    expected,
                    "{ip} in {}/{} {} ({:?})",
                    entry.network,
                    entry.prefix,
                    entry.name,
                    entry.reachable
                );
                checked += 1;
            }
        }
        assert!(checked > 150, "{checked}");
        // Every IPv4 entry that is not reachable stays refused in every IPv6 form that
        // carries an IPv4 address.
        for entry in entries().iter().filter(|e| e.reachable != Reachable::True) {
            for ip in samples(entry) {
                let IpAddr::V4(v4) = ip else { continue };
                for form in carriers(v4) {
                    assert!(
                        !is_globally_reachable(IpAddr::V6(form)),
                        "{form} carries {v4}"
                    );
                }
            }
        }
    }

    /// `v4` in each IPv6 form that carries an IPv4 address.
    fn carriers(v4: Ipv4Addr) -> Vec<Ipv6Addr> {
        let n = u32::from(v4);
        let (hi, lo) = ((n >> 16) as u16, n as u16);
        let (nhi, nlo) = ((!n >> 16) as u16, !n as u16);
        vec![
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, hi, lo), // mapped
            Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),      // compatible
            Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo), // translated (SIIT)
            Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo), // NAT64
            Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo), // NAT64, local use
            Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1), // 6to4
            Ipv6Addr::new(0x2001, 0, 0x0808, 0x0808, 0, 0, nhi, nlo), // Teredo client
            Ipv6Addr::new(0x2001, 0, hi, lo, 0, 0, 0xf7f7, 0xf7f7), // Teredo server
        ]
    }

    #[test]
    fn a_public_ipv4_address_is_reachable_in_the_forms_that_carry_it() {
        let public: Ipv4Addr = "8.8.8.8".parse().unwrap();
        let forms = carriers(public);
        for (i, form) in forms.iter().enumerate() {
            // The local-use NAT64 prefix is not globally reachable, whatever it carries.
            let expected = i != 4;
            assert_eq!(is_globally_reachable(IpAddr::V6(*form)), expected, "{form}");
        }
        for (text, expected) in [
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("2606:4700::1111", true),
            ("192.0.0.9", true),     // PCP anycast, inside 192.0.0.0/24
            ("192.31.196.1", true),  // AS112
            ("2001:4:112::1", true), // AS112-v6, inside 2001::/23
            ("224.0.0.1", false),    // multicast
            ("239.255.255.250", false),
            ("ff02::1", false),
            ("192.88.99.1", false), // deprecated 6to4 relay anycast
            ("2001:db8::1", false),
            ("3fff::1", false),
            ("5f00::1", false),
            ("100:0:0:1::1", false),
            ("64:ff9b::a9fe:a9fe", false), // NAT64 of the metadata endpoint
            ("2002:a9fe:a9fe::1", false),  // 6to4 of it
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(is_globally_reachable(ip), expected, "{text}");
        }
    }
}
