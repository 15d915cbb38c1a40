//! Inputs for bounded, repeatable fuzz runs on stable Rust (`make test` runs them; `make
//! fuzz` runs long ones): mutants of a fixed corpus. A dev-dependency of the crates
//! whose decoders and parsers are fuzzed; never in a Lambda binary.

/// Inputs for a bounded, repeatable fuzz run on stable Rust: each is a seed of `corpus`
/// changed by one to four mutations (bit flips, interesting bytes, inserted, deleted or
/// repeated runs, truncation, a splice with another seed), drawn from a fixed PRNG
/// seed so a failure reproduces. `FUZZ_ITERATIONS` (default `default_iterations`) sets
/// how many; `make fuzz` runs many more.
pub fn fuzz_inputs(
    corpus: &[Vec<u8>],
    default_iterations: usize,
) -> impl Iterator<Item = Vec<u8>> + '_ {
    let iterations = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default_iterations);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..iterations).map(move |_| {
        let mut input = corpus[next() as usize % corpus.len()].clone();
        for _ in 0..1 + next() % 4 {
            let len = input.len().max(1);
            let at = next() as usize % len;
            let run = 1 + next() as usize % 16;
            match next() % 8 {
                0 => {
                    if let Some(b) = input.get_mut(at) {
                        *b ^= 1 << (next() % 8);
                    }
                }
                1 => {
                    if let Some(b) = input.get_mut(at) {
                        *b = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE][next() as usize % 6];
                    }
                }
                2 => {
                    let bytes: Vec<u8> = (0..run).map(|_| next() as u8).collect();
                    input.splice(at.min(input.len())..at.min(input.len()), bytes);
                }
                3 => {
                    let end = (at + run).min(input.len());
                    input.drain(at.min(end)..end);
                }
                4 => {
                    let end = (at + run).min(input.len());
                    let copy = input[at.min(end)..end].to_vec();
                    input.splice(at.min(input.len())..at.min(input.len()), copy);
                }
                5 => input.truncate(at),
                6 => {
                    let other = &corpus[next() as usize % corpus.len()];
                    let from = next() as usize % other.len().max(1);
                    input.truncate(at);
                    input.extend_from_slice(other.get(from..).unwrap_or_default());
                }
                _ => {
                    // A JPEG-style marker byte pair.
                    if at + 1 < input.len() {
                        input[at] = 0xFF;
                        input[at + 1] = next() as u8;
                    }
                }
            }
        }
        input
    })
}
