// The sharp (libvips) side of the preview benchmark, and the images both sides read.
//   node preview.mjs fixtures <dir>            writes camera.jpg, large.png, photo.webp
//   node preview.mjs run <file> <runs> <w> <h> one thumbnail at a time, as a service makes
//                                              them; prints {"ms": [...], "max_rss_mib": n}
import fs from 'node:fs';
import sharp from 'sharp';

// No result cache between runs (each request is a new image to a service), one image
// at a time; libvips keeps its default threads.
sharp.cache(false);

/** Deterministic photo-like pixels: smooth colour fields and a fine grain. */
function pixels(width, height, channels, grain) {
  const out = Buffer.alloc(width * height * channels);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const g = ((seed >>> 16) % grain) - grain / 2;
      const i = (y * width + x) * channels;
      const u = x / width, v = y / height;
      out[i] = 128 + 100 * Math.sin(u * 9 + v * 3) + g;
      out[i + 1] = 128 + 90 * Math.cos(v * 11 - u * 2) + g;
      out[i + 2] = 128 + 80 * Math.sin((u + v) * 7) + g;
      if (channels === 4) out[i + 3] = 255 * (0.5 + 0.5 * Math.sin(u * 5));
    }
  }
  return out;
}

const raw = (width, height, channels, grain) =>
  sharp(pixels(width, height, channels, grain), { raw: { width, height, channels } });

const [command, ...args] = process.argv.slice(2);
if (command === 'fixtures') {
  const dir = args[0];
  fs.mkdirSync(dir, { recursive: true });
  // A 12-megapixel camera photo, stored sideways with its EXIF orientation.
  await raw(4000, 3000, 3, 32)
    .jpeg({ quality: 92, chromaSubsampling: '4:2:0' })
    .withMetadata({ orientation: 6 })
    .toFile(`${dir}/camera.jpg`);
  // A large PNG with transparency (a 6-megapixel RGBA graphic).
  await raw(3000, 2000, 4, 8).png().toFile(`${dir}/large.png`);
  // A 12-megapixel lossy WebP photo.
  await raw(4000, 3000, 3, 32).webp({ quality: 85 }).toFile(`${dir}/photo.webp`);
} else if (command === 'run') {
  const [file, runs, w, h] = args;
  const input = fs.readFileSync(file);
  const png = file.endsWith('.png');
  const ms = [];
  for (let i = 0; i < Number(runs) + 2; i++) {
    const started = process.hrtime.bigint();
    await sharp(input)
      .rotate() // EXIF orientation, as ours applies it
      .resize(Number(w), Number(h), { fit: 'inside', withoutEnlargement: true })
      .toFormat(png ? 'png' : 'jpeg')
      .toBuffer();
    if (i >= 2) ms.push(Number(process.hrtime.bigint() - started) / 1e6); // 2 warm-ups
  }
  const maxRssMib = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ ms, max_rss_mib: maxRssMib, threads: sharp.concurrency() }));
} else {
  console.error('usage: node preview.mjs fixtures <dir> | run <file> <runs> <w> <h>');
  process.exit(2);
}
