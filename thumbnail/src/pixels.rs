//! Decoded pixels: 8 bits a channel, RGB or RGBA, rows packed.

/// The channels of a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Rgb,
    /// Straight (not premultiplied) alpha.
    Rgba,
}

impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

impl Pixels {
    /// Whether any pixel is less than opaque.
    pub fn has_transparency(&self) -> bool {
        self.layout == Layout::Rgba && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// The same pixels without the alpha channel.
    pub fn into_rgb(self) -> Pixels {
        if self.layout == Layout::Rgb {
            return self;
        }
        let data = self
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Pixels {
            layout: Layout::Rgb,
            data,
            ..self
        }
    }
}

/// Gray (and gray + alpha) samples spread to RGB (RGBA).
pub fn gray_to_rgb(gray: &[u8], with_alpha: bool) -> Vec<u8> {
    if with_alpha {
        gray.chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect()
    } else {
        gray.iter().flat_map(|&g| [g, g, g]).collect()
    }
}
