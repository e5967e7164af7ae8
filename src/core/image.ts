/** Pixel containers and conversions. Pure: no host, runtime or I/O imports. */
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { ceil, floor, max, min, round } = Math;

/** 8-bit RGBA, row-major, premultiplied = false. The common currency between hosts and the engine. */
export interface RGBAImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** One 8-bit channel (masks). 0 = transparent / hidden, 255 = opaque / shown. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export function createRGBA(width: number, height: number): RGBAImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

export function createGray(width: number, height: number): GrayImage {
  return { width, height, data: new Uint8ClampedArray(width * height) };
}

/** Expand RGB, gray or gray+alpha interleaved bytes to RGBA. */
export function toRGBA(data: ArrayLike<number>, width: number, height: number, channels: number): RGBAImage {
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`Unsupported channel count ${channels}: expected 1, 2, 3 or 4.`);
  if (data.length < width * height * channels) throw new Error(`Pixel buffer too short for ${width}x${height}x${channels}.`);
  const out = createRGBA(width, height);
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const d = i * 4;
    if (channels >= 3) {
      out.data[d] = data[s]; out.data[d + 1] = data[s + 1]; out.data[d + 2] = data[s + 2];
      out.data[d + 3] = channels === 4 ? data[s + 3] : 255;
    } else {
      out.data[d] = out.data[d + 1] = out.data[d + 2] = data[s];
      out.data[d + 3] = channels === 2 ? data[s + 1] : 255;
    }
  }
  return out;
}

/** Planar float CHW (RGB) in [lo, hi], the layout the nets take. */
export function toPlanar(img: RGBAImage, range: [number, number] = [-1, 1]): Float32Array {
  const [lo, hi] = range;
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const k = (hi - lo) / 255;
  for (let i = 0; i < n; i++) {
    out[i] = img.data[i * 4] * k + lo;
    out[n + i] = img.data[i * 4 + 1] * k + lo;
    out[2 * n + i] = img.data[i * 4 + 2] * k + lo;
  }
  return out;
}

/** Inverse of toPlanar; alpha is set opaque. Values are clamped and rounded. */
export function fromPlanar(data: Float32Array, width: number, height: number, range: [number, number] = [-1, 1]): RGBAImage {
  const [lo, hi] = range;
  const n = width * height;
  if (data.length < 3 * n) throw new Error(`Planar buffer too short for 3x${height}x${width}.`);
  const out = createRGBA(width, height);
  const k = 255 / (hi - lo);
  for (let i = 0; i < n; i++) {
    out.data[i * 4] = round((data[i] - lo) * k);
    out.data[i * 4 + 1] = round((data[n + i] - lo) * k);
    out.data[i * 4 + 2] = round((data[2 * n + i] - lo) * k);
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** Copy a rectangle (clipped to the image). */
export function cropRGBA(img: RGBAImage, x: number, y: number, width: number, height: number): RGBAImage {
  const out = createRGBA(width, height);
  // the part inside the image, copied row by row (outside stays transparent black)
  const x0 = Math.max(0, x), x1 = Math.min(img.width, x + width);
  if (x1 <= x0) return out;
  for (let r = 0; r < height; r++) {
    const sy = y + r;
    if (sy < 0 || sy >= img.height) continue;
    out.data.set(img.data.subarray((sy * img.width + x0) * 4, (sy * img.width + x1) * 4), (r * width + (x0 - x)) * 4);
  }
  return out;
}

/** Area-averaging downscale by an integer-free factor (box filter); used for detection copies. */
export function resizeArea(img: RGBAImage, width: number, height: number): RGBAImage {
  const out = createRGBA(width, height);
  const sx = img.width / width;
  const sy = img.height / height;
  // each output column's source columns and their weights, worked out once (the arithmetic per
  // pixel is the same as computing them in the loop: the result is unchanged to the last bit)
  const span = (n: number, s: number, extent: number) => {
    const first = new Int32Array(n), count = new Int32Array(n), weights: Float64Array[] = [];
    for (let i = 0; i < n; i++) {
      const a = i * s, b = min(extent, (i + 1) * s);
      first[i] = floor(a); count[i] = ceil(b) - floor(a);
      const w = new Float64Array(count[i]);
      for (let k = 0; k < count[i]; k++) w[k] = min(first[i] + k + 1, b) - max(first[i] + k, a);
      weights.push(w);
    }
    return { first, count, weights };
  };
  const X = span(width, sx, img.width), Y = span(height, sy, img.height);
  const src = img.data, W = img.width;
  for (let y = 0; y < height; y++) {
    const yf = Y.first[y], yn = Y.count[y], wys = Y.weights[y];
    for (let x = 0; x < width; x++) {
      const xf = X.first[x], xn = X.count[x], wxs = X.weights[x];
      let r = 0, g = 0, b = 0, a = 0, wsum = 0;
      for (let j = 0; j < yn; j++) {
        const wy = wys[j], row = (yf + j) * W;
        for (let i = 0; i < xn; i++) {
          const w = wy * wxs[i];
          const s = (row + xf + i) * 4;
          r += src[s] * w; g += src[s + 1] * w; b += src[s + 2] * w; a += src[s + 3] * w;
          wsum += w;
        }
      }
      const d = (y * width + x) * 4;
      out.data[d] = r / wsum; out.data[d + 1] = g / wsum; out.data[d + 2] = b / wsum; out.data[d + 3] = a / wsum;
    }
  }
  return out;
}
