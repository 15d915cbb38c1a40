//! The one EXIF tag a thumbnail needs: Orientation (0x0112) of the first IFD.

/// The orientation (1–8) an EXIF block gives, with or without its `Exif\0\0` header;
/// 1 (upright) when it is absent or unreadable.
pub fn orientation(exif: &[u8]) -> u8 {
    read_orientation(exif.strip_prefix(b"Exif\0\0").unwrap_or(exif)).unwrap_or(1)
}

fn read_orientation(tiff: &[u8]) -> Option<u8> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = u16_at(ifd)? as usize;
    (0..entries.min(512)).find_map(|i| {
        let entry = ifd.checked_add(2 + i * 12)?;
        // Tag 0x0112, type SHORT (3): the value sits in the entry itself.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .and_then(|o| u8::try_from(o).ok())
            .filter(|o| (1..=8).contains(o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::exif_orientation as exif_with_orientation;

    #[test]
    fn orientation_is_read_in_either_byte_order() {
        for value in 1..=8 {
            assert_eq!(
                orientation(&exif_with_orientation(value, true)),
                value as u8
            );
            assert_eq!(
                orientation(&exif_with_orientation(value, false)),
                value as u8
            );
        }
    }

    #[test]
    fn broken_blocks_mean_upright() {
        assert_eq!(orientation(&exif_with_orientation(9, true)), 1);
        let whole = exif_with_orientation(6, false);
        for cut in 0..whole.len() - 1 {
            assert!(orientation(&whole[..cut]) <= 8);
        }
        assert_eq!(orientation(b"Exif\0\0II*\0\xff\xff\xff\xff"), 1);
        assert_eq!(orientation(b""), 1);
    }
}
