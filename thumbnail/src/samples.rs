//! Small images and PDFs made in code, for tests and benchmarks: each format, an EXIF
//! orientation, transparency, an animation, and hostile files (headers that claim
//! billions of pixels, garbage behind a valid signature).

/// The colour of the marked quadrant of [`marked`] images, and of the rest.
pub const MARK: [u8; 3] = [220, 30, 30];
pub const REST: [u8; 3] = [30, 30, 220];

/// `width` × `height` pixels (RGB, or RGBA with `alpha`): the top-left quadrant
/// [`MARK`], the rest [`REST`]; with alpha, the right half half-transparent.
pub fn marked(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let colour = if x < width / 2 && y < height / 2 {
                MARK
            } else {
                REST
            };
            out.extend_from_slice(&colour);
            if alpha {
                out.push(if x < width / 2 { 255 } else { 128 });
            }
        }
    }
    out
}

/// A baseline JPEG of [`marked`] pixels, with an EXIF orientation when given.
pub fn jpeg(width: u16, height: u16, orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    if let Some(orientation) = orientation {
        encoder
            .add_app_segment(1, exif_orientation(orientation, true))
            .expect("APP1 fits");
    }
    encoder
        .encode(
            &marked(width.into(), height.into(), false),
            width,
            height,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encode JPEG");
    out
}

/// An EXIF block with one tag: Orientation, in either byte order.
pub fn exif_orientation(value: u16, big_endian: bool) -> Vec<u8> {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = b"Exif\0\0".to_vec();
    out.extend_from_slice(if big_endian { b"MM\0*" } else { b"II*\0" });
    out.extend_from_slice(&u32b(8)); // the first IFD
    out.extend_from_slice(&u16b(1)); // one entry
    out.extend_from_slice(&u16b(0x0112)); // Orientation
    out.extend_from_slice(&u16b(3)); // SHORT
    out.extend_from_slice(&u32b(1)); // one value
    out.extend_from_slice(&u16b(value));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&u32b(0)); // no next IFD
    out
}

/// A PNG of [`marked`] pixels, RGBA with `alpha`.
pub fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(if alpha {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&marked(width, height, alpha)))
        .expect("encode PNG");
    out
}

/// A GIF of two frames: the first [`marked`] (with its right half transparent), the
/// second all green.
pub fn gif(width: u16, height: u16) -> Vec<u8> {
    let palette = [MARK, REST, [0, 200, 0]].concat();
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).expect("GIF");
        let (w, h) = (usize::from(width), usize::from(height));
        let first: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                match (x < w / 2, y < h / 2) {
                    (true, true) => 0,
                    (true, false) => 1,
                    _ => 3, // transparent
                }
            })
            .collect();
        let frame = |buffer: Vec<u8>, transparent| gif::Frame {
            width,
            height,
            buffer: buffer.into(),
            transparent,
            ..gif::Frame::default()
        };
        encoder.write_frame(&frame(first, Some(3))).expect("frame");
        encoder
            .write_frame(&frame(vec![2; w * h], None))
            .expect("frame");
    }
    out
}

/// A lossless WebP of [`marked`] pixels, RGBA with `alpha`.
pub fn webp(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let color = if alpha {
        image_webp::ColorType::Rgba8
    } else {
        image_webp::ColorType::Rgb8
    };
    image_webp::WebPEncoder::new(&mut out)
        .encode(&marked(width, height, alpha), width, height, color)
        .expect("encode WebP");
    out
}

/// An animated WebP of two lossless frames: the first [`marked`], the second all
/// green.
pub fn animated_webp(width: u32, height: u32) -> Vec<u8> {
    let frame_chunk = |pixels: &[u8]| {
        let mut still = Vec::new();
        image_webp::WebPEncoder::new(&mut still)
            .encode(pixels, width, height, image_webp::ColorType::Rgb8)
            .expect("encode WebP");
        still[12..].to_vec() // the VP8L chunk, after RIFF....WEBP
    };
    let u24 = |v: u32| v.to_le_bytes()[..3].to_vec();
    let green: Vec<u8> = (0..width * height).flat_map(|_| [0, 200, 0]).collect();
    let mut body = b"WEBP".to_vec();
    let mut vp8x = vec![0x02, 0, 0, 0]; // animation
    vp8x.extend(u24(width - 1));
    vp8x.extend(u24(height - 1));
    riff_chunk(&mut body, b"VP8X", &vp8x);
    riff_chunk(&mut body, b"ANIM", &[0, 0, 0, 0, 0, 0]);
    for pixels in [marked(width, height, false), green] {
        let mut anmf = [u24(0), u24(0), u24(width - 1), u24(height - 1), u24(100)].concat();
        anmf.push(0);
        anmf.extend(frame_chunk(&pixels));
        riff_chunk(&mut body, b"ANMF", &anmf);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn riff_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

/// A one-page PDF, `width` × `height` points, white with its top-left quadrant filled
/// with [`MARK`]; a second page all black.
pub fn pdf(width: u32, height: u32) -> Vec<u8> {
    let [r, g, b] = MARK.map(|c| f32::from(c) / 255.0);
    let first = format!(
        "{r:.3} {g:.3} {b:.3} rg 0 {} {} {} re f",
        height / 2,
        width / 2,
        height - height / 2
    );
    let second = format!("0 0 0 rg 0 0 {width} {height} re f");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>".to_owned(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R >>"),
        format!("<< /Length {} >>\nstream\n{first}\nendstream", first.len()),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 6 0 R >>"),
        format!(
            "<< /Length {} >>\nstream\n{second}\nendstream",
            second.len()
        ),
    ];
    pdf_of(&objects)
}

/// A PDF of `objects` (object 1 the catalog), with its cross-reference table.
fn pdf_of(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A small PDF whose drawing never ends in practice: form XObjects nested `depth`
/// deep, each drawing the next `fan_out` times (fan_out^depth drawings).
pub fn pdf_recursive(depth: usize, fan_out: usize) -> Vec<u8> {
    // 1 catalog, 2 pages, 3 page, 4 page content, 5.. the forms.
    let form = |i: usize| 5 + i;
    let draws = |next: usize| format!("/X{next} Do\n").repeat(fan_out);
    let page_content = draws(0);
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 600] /Contents 4 0 R \
             /Resources << /XObject << /X0 {} 0 R >> >> >>",
            form(0)
        ),
        format!(
            "<< /Length {} >>\nstream\n{page_content}endstream",
            page_content.len()
        ),
    ];
    for i in 0..depth {
        let (content, resources) = if i + 1 < depth {
            (
                draws(i + 1),
                format!(
                    "/Resources << /XObject << /X{} {} 0 R >> >>",
                    i + 1,
                    form(i + 1)
                ),
            )
        } else {
            ("0.5 0 0 rg 10 10 580 580 re f\n".to_owned(), String::new())
        };
        objects.push(format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 600 600] {resources} /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    pdf_of(&objects)
}

/// A PNG whose header claims `width` × `height` pixels, followed by a few bytes of
/// image data: a decompression bomb's calling card.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG whose frame header claims `width` × `height` pixels.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg(16, 16, None);
    let sof = out
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline frame header");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A GIF whose logical screen claims `width` × `height` pixels.
pub fn gif_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = gif(4, 4);
    out[6..8].copy_from_slice(&width.to_le_bytes());
    out[8..10].copy_from_slice(&height.to_le_bytes());
    out
}

/// A lossless WebP whose header claims `width` × `height` pixels (each 1..=16383).
pub fn webp_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = webp(4, 4, false);
    // RIFF(12) "VP8L"(4) size(4) signature 0x2f(1), then 14 bits width-1, 14 height-1.
    let at = 21;
    let mut bits = u32::from_le_bytes(out[at..at + 4].try_into().expect("4 bytes"));
    bits = (bits & !0x0FFF_FFFF) | ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14);
    out[at..at + 4].copy_from_slice(&bits.to_le_bytes());
    out
}

/// A signature, then noise: what a renamed or damaged file looks like.
pub fn garbage_after(signature: &[u8], len: usize) -> Vec<u8> {
    let mut out = signature.to_vec();
    let mut seed = 0x2545_F491u32;
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        out.push(seed as u8);
    }
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
