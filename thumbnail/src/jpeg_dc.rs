//! A baseline JPEG at 1/8 of its size from the DC coefficients alone.
//!
//! The average of an 8 × 8 block is its DC coefficient, so a thumbnail at most 1/8 of
//! the photo needs no IDCT at all: every block's AC coefficients are only skipped
//! (their Huffman codes read, their bits jumped), which is where the time goes. A
//! table of 11-bit prefixes decodes a symbol and skips its bits in one step. This is
//! what libjpeg's 1/8 scale does, without the general machinery around it.
//!
//! Only the common case is read here: sequential Huffman (SOF0/SOF1), 8-bit, one or
//! three components (YCbCr), one interleaved scan. Anything else answers `None` and
//! the general decoder takes it.

use crate::pixels::{Layout, Pixels};

/// Bits a lookup table decodes at once.
const LOOKUP_BITS: u32 = 11;
const LOOKUP_SIZE: usize = 1 << LOOKUP_BITS;

/// Why the fast path gave up: the general decoder is asked instead (`Other`), or the
/// file is damaged (`Corrupt`).
#[derive(Debug, PartialEq, Eq)]
pub enum Declined {
    Other,
    Corrupt(&'static str),
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc_table: usize,
    ac_table: usize,
}

/// A Huffman table: a lookup of the first `LOOKUP_BITS` bits, and the canonical
/// code ranges for longer codes.
#[derive(Clone)]
struct Huffman {
    /// Per 11-bit prefix: code length (0: longer than the lookup) and symbol.
    lookup: Box<[(u8, u8); LOOKUP_SIZE]>,
    /// For AC tables, per prefix: total bits of code and value (0: not in the lookup)
    /// and the zero run before it, or 0xFF for end of block; in one step.
    skip: Box<[(u8, u8); LOOKUP_SIZE]>,
    max_code: [i32; 17],
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8]) -> Result<Huffman, Declined> {
        let mut lookup = Box::new([(0u8, 0u8); LOOKUP_SIZE]);
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0u32;
        let mut k = 0usize;
        for len in 1..=16usize {
            let n = usize::from(counts[len - 1]);
            offset[len] = k as i32 - code as i32;
            for _ in 0..n {
                let symbol = *values.get(k).ok_or(Declined::Corrupt("Huffman table"))?;
                // More codes than this length holds: an over-full table (found by the
                // fuzz run: it indexed past the lookup).
                if code >= 1 << len {
                    return Err(Declined::Corrupt("Huffman table"));
                }
                if len as u32 <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len as u32;
                    let first = (code << shift) as usize;
                    for entry in &mut lookup[first..first + (1 << shift)] {
                        *entry = (len as u8, symbol);
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[len] = code as i32 - 1;
            }
            if code > 1 << len {
                return Err(Declined::Corrupt("Huffman table"));
            }
            code <<= 1;
        }
        let mut skip = Box::new([(0u8, 0u8); LOOKUP_SIZE]);
        for (entry, &(len, symbol)) in skip.iter_mut().zip(lookup.iter()) {
            *entry = {
                let (run, size) = (symbol >> 4, u32::from(symbol & 15));
                match (len, symbol) {
                    (0, _) => (0, 0),
                    (_, 0x00) => (len, 0xFF),
                    _ if u32::from(len) + size <= LOOKUP_BITS => (len + size as u8, run),
                    _ => (0, 0),
                }
            };
        }
        Ok(Huffman {
            lookup,
            skip,
            max_code,
            offset,
            values: values.to_vec(),
        })
    }
}

/// The entropy-coded bits, with 0xFF00 unstuffed; at a marker, zeros.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buffer: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    /// Tops the buffer up to at least 57 bits: eight bytes at once where none of them is
    /// 0xFF (almost everywhere), byte by byte around stuffing and markers.
    #[inline(always)]
    fn refill(&mut self) {
        if self.count > 56 {
            return;
        }
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or_default());
            // Whether a byte of `word` is 0xFF: a zero byte of its complement.
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let n = (64 - self.count) / 8;
                self.buffer |= (word >> (64 - 8 * n)) << (64 - self.count - 8 * n);
                self.pos += n as usize;
                self.count += 8 * n;
                return;
            }
        }
        self.refill_slowly();
    }

    #[cold]
    fn refill_slowly(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(0xFF) => match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        0xFF
                    }
                    // A marker (or the end): nothing more of this scan.
                    _ => 0,
                },
                Some(&b) => {
                    self.pos += 1;
                    b
                }
                None => 0,
            };
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `LOOKUP_BITS` bits, as an index no table can overrun.
    #[inline(always)]
    fn peek_index(&self) -> usize {
        (self.buffer >> (64 - LOOKUP_BITS)) as usize & (LOOKUP_SIZE - 1)
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.buffer >> (64 - n)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    #[inline(always)]
    fn decode(&mut self, table: &Huffman) -> Result<u8, Declined> {
        self.refill();
        let (len, symbol) = table.lookup[self.peek_index()];
        if len > 0 {
            self.consume(u32::from(len));
            return Ok(symbol);
        }
        let bits = self.peek(16) as i32;
        for len in LOOKUP_BITS as usize + 1..=16 {
            let code = bits >> (16 - len);
            if code <= table.max_code[len] {
                self.consume(len as u32);
                let index = (code + table.offset[len]) as usize;
                return table
                    .values
                    .get(index)
                    .copied()
                    .ok_or(Declined::Corrupt("Huffman code"));
            }
        }
        Err(Declined::Corrupt("Huffman code"))
    }

    /// `size` bits as a signed value (JPEG's EXTEND).
    #[inline(always)]
    fn receive_extend(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        self.refill();
        let value = self.peek(size) as i32;
        self.consume(size);
        if value < 1 << (size - 1) {
            value - (1 << size) + 1
        } else {
            value
        }
    }

    /// Skips a block's 63 AC coefficients.
    #[inline(always)]
    fn skip_ac(&mut self, table: &Huffman) -> Result<(), Declined> {
        let mut k = 1;
        while k < 64 {
            if self.count < LOOKUP_BITS {
                self.refill();
            }
            let (bits, run) = table.skip[self.peek_index()];
            if bits > 0 {
                if run == 0xFF {
                    self.consume(u32::from(bits));
                    return Ok(());
                }
                self.consume(u32::from(bits));
                k += usize::from(run) + 1;
                continue;
            }
            let symbol = self.decode(table)?;
            let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
            if size == 0 {
                if run != 15 {
                    return Ok(());
                }
                k += 16;
            } else {
                self.refill();
                self.consume(size);
                k += run + 1;
            }
        }
        Ok(())
    }

    /// After a restart interval: the bits left are padding; the RSTn marker is skipped.
    fn restart(&mut self) {
        self.buffer = 0;
        self.count = 0;
        while let Some(&b) = self.data.get(self.pos) {
            if b == 0xFF && matches!(self.data.get(self.pos + 1), Some(0xD0..=0xD7)) {
                self.pos += 2;
                return;
            }
            self.pos += 1;
        }
    }
}

/// The header of a JPEG as far as the first scan, for the fast path.
pub struct Header<'a> {
    pub width: u32,
    pub height: u32,
    components: Vec<Component>,
    quant: [[u16; 64]; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart_interval: usize,
    scan: &'a [u8],
    /// The EXIF block (APP1), if any.
    pub exif: Option<&'a [u8]>,
}

fn be16(data: &[u8], at: usize) -> Result<usize, Declined> {
    data.get(at..at + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(Declined::Corrupt("truncated header"))
}

/// Reads the markers up to the first scan; declines anything the fast path does not do.
pub fn read_header(data: &[u8]) -> Result<Header<'_>, Declined> {
    let mut header = Header {
        width: 0,
        height: 0,
        components: Vec::new(),
        quant: [[0; 64]; 4],
        dc: [None, None, None, None],
        ac: [None, None, None, None],
        restart_interval: 0,
        scan: &[],
        exif: None,
    };
    let mut pos = 2; // after SOI
    loop {
        while data.get(pos) == Some(&0xFF) && data.get(pos + 1) == Some(&0xFF) {
            pos += 1; // fill bytes
        }
        if data.get(pos) != Some(&0xFF) {
            return Err(Declined::Corrupt("no marker where one belongs"));
        }
        let marker = *data.get(pos + 1).ok_or(Declined::Corrupt("truncated"))?;
        let len = be16(data, pos + 2)?;
        let body = data
            .get(pos + 4..pos + 2 + len)
            .filter(|_| len >= 2)
            .ok_or(Declined::Corrupt("truncated segment"))?;
        match marker {
            0xC0 | 0xC1 => {
                if body.len() < 6 || body[0] != 8 {
                    return Err(Declined::Other);
                }
                header.height = be16(body, 1)? as u32;
                header.width = be16(body, 3)? as u32;
                let n = usize::from(body[5]);
                if !(n == 1 || n == 3) || body.len() < 6 + 3 * n || header.height == 0 {
                    return Err(Declined::Other);
                }
                for c in body[6..6 + 3 * n].chunks_exact(3) {
                    let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                        return Err(Declined::Corrupt("frame header"));
                    }
                    header.components.push(Component {
                        id: c[0],
                        h,
                        v,
                        quant: usize::from(c[2]),
                        dc_table: 0,
                        ac_table: 0,
                    });
                }
            }
            // Progressive, lossless, arithmetic, hierarchical: the general decoder.
            0xC2..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Err(Declined::Other),
            0xC4 => {
                let mut at = 0;
                while at < body.len() {
                    let (class, id) = (body[at] >> 4, usize::from(body[at] & 15));
                    let counts: [u8; 16] = body
                        .get(at + 1..at + 17)
                        .and_then(|c| c.try_into().ok())
                        .ok_or(Declined::Corrupt("Huffman table"))?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = body
                        .get(at + 17..at + 17 + total)
                        .ok_or(Declined::Corrupt("Huffman table"))?;
                    if id > 3 || class > 1 {
                        return Err(Declined::Corrupt("Huffman table"));
                    }
                    let table = Some(Huffman::new(&counts, values)?);
                    if class == 0 {
                        header.dc[id] = table;
                    } else {
                        header.ac[id] = table;
                    }
                    at += 17 + total;
                }
            }
            0xDB => {
                let mut at = 0;
                while at < body.len() {
                    let (precision, id) = (body[at] >> 4, usize::from(body[at] & 15));
                    let size = if precision == 0 { 64 } else { 128 };
                    let values = body
                        .get(at + 1..at + 1 + size)
                        .filter(|_| id <= 3)
                        .ok_or(Declined::Corrupt("quantization table"))?;
                    for (i, q) in header.quant[id].iter_mut().enumerate() {
                        *q = if precision == 0 {
                            u16::from(values[i])
                        } else {
                            u16::from_be_bytes([values[2 * i], values[2 * i + 1]])
                        };
                    }
                    at += 1 + size;
                }
            }
            0xDD => header.restart_interval = be16(body, 0)?,
            0xE1 if body.starts_with(b"Exif\0\0") => header.exif = Some(body),
            // Adobe's APP14 with transform 0: RGB or CMYK stored as is; not YCbCr.
            0xEE if body.starts_with(b"Adobe") && body.get(11) == Some(&0) => {
                return Err(Declined::Other)
            }
            0xDA => {
                let n = usize::from(*body.first().ok_or(Declined::Corrupt("scan"))?);
                if header.components.is_empty() || n != header.components.len() {
                    return Err(Declined::Other);
                }
                for c in body
                    .get(1..1 + 2 * n)
                    .ok_or(Declined::Corrupt("scan"))?
                    .chunks_exact(2)
                {
                    let component = header
                        .components
                        .iter_mut()
                        .find(|k| k.id == c[0])
                        .ok_or(Declined::Corrupt("scan names no component"))?;
                    component.dc_table = usize::from(c[1] >> 4);
                    component.ac_table = usize::from(c[1] & 15);
                    if component.dc_table > 3 || component.ac_table > 3 {
                        return Err(Declined::Corrupt("scan tables"));
                    }
                }
                header.scan = &data[pos + 2 + len..];
                return Ok(header);
            }
            0xD9 => return Err(Declined::Corrupt("no scan")),
            _ => {}
        }
        pos += 2 + len;
    }
}

/// The image at 1/8 scale: ceil(width / 8) × ceil(height / 8), RGB.
pub fn decode_eighth(header: &Header<'_>) -> Result<Pixels, Declined> {
    let comps = &header.components;
    let h_max = comps.iter().map(|c| c.h).max().unwrap_or(1);
    let v_max = comps.iter().map(|c| c.v).max().unwrap_or(1);
    let (width, height) = (header.width as usize, header.height as usize);
    let single = comps.len() == 1;
    // A single component's scan is not interleaved: one block per MCU.
    let (mcu_x, mcu_y) = if single {
        (width.div_ceil(8), height.div_ceil(8))
    } else {
        (width.div_ceil(8 * h_max), height.div_ceil(8 * v_max))
    };
    let tables: Vec<(&Huffman, &Huffman, i32)> = comps
        .iter()
        .map(|c| {
            let dc = header.dc[c.dc_table].as_ref();
            let ac = header.ac[c.ac_table].as_ref();
            match (dc, ac) {
                (Some(dc), Some(ac)) => Ok((dc, ac, i32::from(header.quant[c.quant][0]))),
                _ => Err(Declined::Corrupt("a scan names a missing table")),
            }
        })
        .collect::<Result<_, _>>()?;
    // One DC value per block, per component: planes of (mcu_x * h) × (mcu_y * v).
    let plane_size = |c: &Component| {
        if single {
            (mcu_x, mcu_y)
        } else {
            (mcu_x * c.h, mcu_y * c.v)
        }
    };
    let mut planes: Vec<Vec<u8>> = comps
        .iter()
        .map(|c| {
            let (w, h) = plane_size(c);
            vec![0u8; w * h]
        })
        .collect();
    let mut bits = Bits {
        data: header.scan,
        pos: 0,
        buffer: 0,
        count: 0,
    };
    let mut predictions = vec![0i32; comps.len()];
    let mut until_restart = header.restart_interval;
    for my in 0..mcu_y {
        for mx in 0..mcu_x {
            if header.restart_interval > 0 {
                if until_restart == 0 {
                    bits.restart();
                    predictions.iter_mut().for_each(|p| *p = 0);
                    until_restart = header.restart_interval;
                }
                until_restart -= 1;
            }
            for (ci, c) in comps.iter().enumerate() {
                let (dc_table, ac_table, q0) = tables[ci];
                let (blocks_h, blocks_v) = if single { (1, 1) } else { (c.h, c.v) };
                let plane_w = plane_size(c).0;
                for v in 0..blocks_v {
                    for h in 0..blocks_h {
                        let size = u32::from(bits.decode(dc_table)?);
                        if size > 11 {
                            return Err(Declined::Corrupt("DC coefficient"));
                        }
                        predictions[ci] += bits.receive_extend(size);
                        bits.skip_ac(ac_table)?;
                        // The block's mean: DC × q / 8, centred on 128.
                        let mean = ((predictions[ci] * q0 + 4) >> 3) + 128;
                        let (x, y) = (mx * blocks_h + h, my * blocks_v + v);
                        planes[ci][y * plane_w + x] = mean.clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
    let (out_w, out_h) = (width.div_ceil(8), height.div_ceil(8));
    let mut data = Vec::with_capacity(out_w * out_h * 3);
    if single {
        let (plane_w, _) = plane_size(&comps[0]);
        for y in 0..out_h {
            for &g in &planes[0][y * plane_w..y * plane_w + out_w] {
                data.extend_from_slice(&[g, g, g]);
            }
        }
    } else {
        let sizes: Vec<(usize, usize)> = comps.iter().map(plane_size).collect();
        for y in 0..out_h {
            for x in 0..out_w {
                // Each component sampled where this pixel falls (nearest).
                let sample = |i: usize| {
                    let c = &comps[i];
                    let (px, py) = (x * c.h / h_max, y * c.v / v_max);
                    i32::from(
                        planes[i][py.min(sizes[i].1 - 1) * sizes[i].0 + px.min(sizes[i].0 - 1)],
                    )
                };
                let (yy, cb, cr) = (sample(0), sample(1) - 128, sample(2) - 128);
                // JFIF's YCbCr to RGB, in 16.16 fixed point.
                let r = yy + ((91_881 * cr + 32_768) >> 16);
                let g = yy - ((22_554 * cb + 46_802 * cr - 32_768) >> 16);
                let b = yy + ((116_130 * cb + 32_768) >> 16);
                data.extend_from_slice(&[
                    r.clamp(0, 255) as u8,
                    g.clamp(0, 255) as u8,
                    b.clamp(0, 255) as u8,
                ]);
            }
        }
    }
    Ok(Pixels {
        width: out_w as u32,
        height: out_h as u32,
        layout: Layout::Rgb,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// Smooth colour fields with a little grain: what photos are made of.
    fn photo(width: u16, height: u16) -> Vec<u8> {
        let mut seed = 7u32;
        let mut out = Vec::new();
        for y in 0..u32::from(height) {
            for x in 0..u32::from(width) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let grain = ((seed >> 16) & 15) as i32 - 8;
                let (u, v) = (x as f32 / f32::from(width), y as f32 / f32::from(height));
                for base in [200.0 * u, 180.0 * v, 120.0 + 100.0 * (u - v)] {
                    out.push((base as i32 + 20 + grain).clamp(0, 255) as u8);
                }
            }
        }
        out
    }

    fn encode(
        width: u16,
        height: u16,
        color: ColorType,
        sampling: SamplingFactor,
        restart: u16,
    ) -> Vec<u8> {
        let pixels = photo(width, height);
        let pixels = match color {
            ColorType::Luma => pixels.chunks_exact(3).map(|p| p[1]).collect(),
            _ => pixels,
        };
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 85);
        encoder.set_sampling_factor(sampling);
        encoder.set_restart_interval(restart);
        encoder.encode(&pixels, width, height, color).unwrap();
        out
    }

    /// The general decoder's 1/8 scale of the same file.
    fn reference(jpeg: &[u8]) -> (u16, u16, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        d.read_info().unwrap();
        let (w, h) = d.scale(1, 1).unwrap();
        let data = d.decode().unwrap();
        let data = match d.info().unwrap().pixel_format {
            jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&g| [g, g, g]).collect(),
            _ => data,
        };
        (w, h, data)
    }

    #[test]
    fn the_dc_path_agrees_with_the_general_decoder_at_one_eighth() {
        let cases = [
            (640, 480, ColorType::Rgb, SamplingFactor::F_2_2, 0),
            (641, 479, ColorType::Rgb, SamplingFactor::F_2_2, 0),
            (333, 250, ColorType::Rgb, SamplingFactor::F_1_1, 0),
            (500, 301, ColorType::Rgb, SamplingFactor::F_2_1, 3),
            (512, 384, ColorType::Rgb, SamplingFactor::F_2_2, 1),
            (257, 129, ColorType::Luma, SamplingFactor::F_1_1, 0),
            (257, 129, ColorType::Luma, SamplingFactor::F_1_1, 5),
        ];
        for (w, h, color, sampling, restart) in cases {
            let jpeg = encode(w, h, color, sampling, restart);
            let header = read_header(&jpeg).unwrap();
            let ours = decode_eighth(&header).unwrap();
            let (rw, rh, theirs) = reference(&jpeg);
            let case = format!("{w}x{h} {color:?} {sampling:?} restart {restart}");
            assert_eq!(
                (ours.width, ours.height),
                (u32::from(rw), u32::from(rh)),
                "{case}"
            );
            let diffs: Vec<u32> = ours
                .data
                .iter()
                .zip(&theirs)
                .map(|(a, b)| u32::from(a.abs_diff(*b)))
                .collect();
            let mean = diffs.iter().sum::<u32>() as f64 / diffs.len() as f64;
            assert!(mean < 3.0, "{case}: mean difference {mean}");
        }
    }

    #[test]
    fn progressive_and_twelve_bit_files_are_left_to_the_general_decoder() {
        let mut jpeg = encode(64, 64, ColorType::Rgb, SamplingFactor::F_2_2, 0);
        let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 1] = 0xC2;
        assert!(matches!(read_header(&jpeg), Err(Declined::Other)));
        jpeg[sof + 1] = 0xC0;
        jpeg[sof + 4] = 12;
        assert!(matches!(read_header(&jpeg), Err(Declined::Other)));
    }

    /// The fuzz run (`FUZZ_ITERATIONS`, `make fuzz` for a long one): mutated JPEGs of
    /// every sampling, colour and restart interval the encoder makes. Each ends in pixels
    /// of the header's size or a refusal; none panics (which aborts the function on
    /// Lambda) or runs on.
    #[test]
    fn fuzz_the_dc_decoder() {
        let corpus: Vec<Vec<u8>> = [
            (64, 48, ColorType::Rgb, SamplingFactor::F_2_2, 0),
            (33, 17, ColorType::Rgb, SamplingFactor::F_1_1, 1),
            (40, 24, ColorType::Rgb, SamplingFactor::F_2_1, 2),
            (24, 24, ColorType::Luma, SamplingFactor::F_1_1, 3),
        ]
        .into_iter()
        .map(|(w, h, color, sampling, restart)| encode(w, h, color, sampling, restart))
        .collect();
        let mut decoded = 0;
        for (i, input) in fuzzing::fuzz_inputs(&corpus, 3000).enumerate() {
            let started = std::time::Instant::now();
            let outcome = std::panic::catch_unwind(|| {
                let header = read_header(&input).ok()?;
                let (w, h) = (header.width, header.height);
                // As the preview checks the header first (here a 4-megapixel bound, for
                // a debug build's speed).
                let limits = shared::ports::DecodeLimits {
                    max_pixels: 1 << 22,
                    max_draw_operations: 0,
                };
                crate::check_pixels(u64::from(w), u64::from(h), limits).ok()?;
                decode_eighth(&header).ok().map(|p| (p, w, h))
            });
            let Ok(outcome) = outcome else {
                panic!("input {i} panicked: {input:02x?}");
            };
            if let Some((pixels, w, h)) = outcome {
                assert_eq!(
                    (pixels.width, pixels.height),
                    (w.div_ceil(8), h.div_ceil(8)),
                    "input {i}"
                );
                decoded += 1;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "input {i} ran on"
            );
        }
        assert!(
            decoded > 0,
            "some mutants still decode: the run reached the scan decoder"
        );
    }

    #[test]
    fn damaged_scans_end_in_an_answer_or_a_refusal() {
        let jpeg = encode(320, 240, ColorType::Rgb, SamplingFactor::F_2_2, 2);
        let header_end = jpeg.len() - read_header(&jpeg).unwrap().scan.len();
        let mut seed = 99u32;
        for trial in 0..200 {
            let mut damaged = jpeg.clone();
            for _ in 0..1 + trial % 8 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let at = header_end + (seed as usize >> 8) % (jpeg.len() - header_end);
                damaged[at] ^= (seed >> 3) as u8 | 1;
            }
            damaged.truncate(header_end + (seed as usize) % (jpeg.len() - header_end + 1));
            if let Ok(header) = read_header(&damaged) {
                if let Ok(pixels) = decode_eighth(&header) {
                    assert_eq!((pixels.width, pixels.height), (40, 30));
                }
            }
        }
    }
}
