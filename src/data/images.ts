import { StepError } from '../core/errors.js';
// Image preprocessing with sharp (libvips): decode, resize the shorter side, crop (centre or
// seeded random), mirror. Works on one image at a time so a dataset of any size streams through
// with memory bounded by the number of images in flight.

export interface ImageOps {
  /** Resize so the shorter side has this many pixels (aspect ratio kept). */
  resize?: number;
  /** Square crop of this size; 'random' picks the offset from `random`. */
  crop?: { size: number; mode: 'center' | 'random' };
  /** Flip horizontally when `random() < 0.5`. */
  mirror?: boolean;
}

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Where the pixels come from: an encoded file (JPEG, PNG…) or raw HWC uint8 pixels. */
export type ImageSource =
  | { file: string }
  | { raw: Uint8Array; width: number; height: number; channels: number };

type SharpFactory = (typeof import('sharp'))['default'];
let sharpModule: SharpFactory | undefined;

async function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= (await import('sharp')).default;
  return sharpModule;
}

/** 'sharp 0.35.5 (libvips 8.17.2)': recorded with the data so a resampling change is visible. */
export async function imageLibrary(): Promise<string> {
  const sharp = await loadSharp();
  return `sharp ${sharp.versions.sharp ?? '?'} (libvips ${sharp.versions.vips})`;
}

/**
 * The most pixels an encoded image may have: its header's width × height is checked before any
 * decoding (libvips checks it again as `limitInputPixels`). A PNG of 31 KB can declare 16000×16000,
 * which decodes to 768 MB of RGB; 40 megapixels (8000×5000, 120 MB as RGB) is more than any camera
 * image a dataset holds.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

/**
 * Decodes and transforms one image to raw HWC uint8 with `channels` channels (3: sRGB, alpha
 * dropped, grey expanded; 1: kept grey). A file that is not an image is a StepError naming it.
 */
export async function transformImage(src: ImageSource, ops: ImageOps, channels: number, random: () => number): Promise<RawImage> {
  const sharp = await loadSharp();
  let img: RawImage;
  const label = 'file' in src ? src.file : 'raw image';
  try {
    if ('raw' in src && !ops.resize) {
      img = { data: Buffer.from(src.raw.buffer, src.raw.byteOffset, src.raw.byteLength), width: src.width, height: src.height, channels: src.channels };
    } else {
      if ('file' in src) {
        // The header alone (no pixels decoded) says how much decoding would take.
        const { width = 0, height = 0 } = await sharp(src.file, { failOn: 'error', limitInputPixels: false }).metadata();
        if (width * height > MAX_IMAGE_PIXELS) {
          throw new StepError(`${label}: ${width}×${height} pixels (${(width * height / 1e6).toFixed(0)} megapixels) is more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels an image may have`,
            'an image this large would take gigabytes to decode; scale it down before adding it to the dataset');
        }
      }
      let pipeline = 'file' in src
        ? sharp(src.file, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
        : sharp(src.raw, { raw: { width: src.width, height: src.height, channels: src.channels as 1 | 3 | 4 } });
      if (channels === 3) pipeline = pipeline.removeAlpha().toColourspace('srgb');
      else pipeline = pipeline.greyscale();
      if (ops.resize) pipeline = pipeline.resize({ width: ops.resize, height: ops.resize, fit: 'outside' });
      const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
      img = { data, width: info.width, height: info.height, channels: info.channels };
      if (img.channels !== channels) {
        // A 1-channel pipeline may come back with 1; a 3-channel one must have 3.
        throw new Error(`decoded to ${img.channels} channels, expected ${channels}`);
      }
    }
  } catch (err) {
    if (err instanceof StepError) throw err;
    throw new StepError(`${label}: not a readable image: ${(err as Error).message}`, 'every file the dataset lists must be a JPEG, PNG, WebP, TIFF or GIF image');
  }
  if (ops.crop) img = crop(img, ops.crop.size, ops.crop.mode === 'random' ? random : null, label);
  if (ops.mirror && random() < 0.5) img = flipHorizontal(img);
  return img;
}

function crop(img: RawImage, size: number, random: (() => number) | null, label: string): RawImage {
  if (img.width < size || img.height < size) {
    throw new StepError(`${label}: ${img.width}×${img.height} is smaller than the crop ${size}×${size}`, 'set resize (the shorter side) to at least the crop size');
  }
  const left = random ? Math.floor(random() * (img.width - size + 1)) : Math.floor((img.width - size) / 2);
  const top = random ? Math.floor(random() * (img.height - size + 1)) : Math.floor((img.height - size) / 2);
  const c = img.channels;
  const out = Buffer.allocUnsafe(size * size * c);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * img.width + left) * c;
    img.data.copy(out, y * size * c, from, from + size * c);
  }
  return { data: out, width: size, height: size, channels: c };
}

function flipHorizontal(img: RawImage): RawImage {
  const { width: w, height: h, channels: c } = img;
  const out = Buffer.allocUnsafe(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = (y * w + x) * c;
      const to = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) out[to + k] = img.data[from + k]!;
    }
  }
  return { ...img, data: out };
}
