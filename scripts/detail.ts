/**
 * "Detail kept" by paste-back on every face of ../shared/photos that is at least 128 px wide:
 * mean |Laplacian| of luma over the inner 60 % of the face box, in the composited output divided
 * by the same in the photo (core/detail.ts detailKept), for the old paste-back ('replace': the
 * net's upscaled face replaces the photo) and the new one ('detail': the photo keeps its detail and
 * takes the net's change).
 *
 *   npx tsx scripts/detail.ts [--direction male2female] [--photo-detail 0..1] [--write] [--crops out/detail] [--gallery docs/gallery-paste.png]
 *
 * The new paste keeps as much of the photo's detail as the model's manifest entry says (photoDetail,
 * chosen on training-split composites); --photo-detail overrides it. --write saves docs/detail.json; --crops writes a 100 % crop of each face (photo | old | new);
 * --gallery stacks the 100 % crops of a few portraits (photo | old paste-back | new) into one picture.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { createNodeEngine } from '../src/platform/node';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import { facesToLayer, compositeLayer } from '../src/core/layer';
import { detailKept } from '../src/core/detail';
import { faceSize } from '../src/core/faces';
import { quantile } from '../src/core/metrics';
import type { TransformModel } from '../src/models/manifest';
import type { RGBAImage } from '../src/core/image';

const ROOT = path.join(__dirname, '..');
const SHARED = process.env.FACESHIFT_SHARED ?? path.join(ROOT, '..', 'shared');
export const MIN_FACE = 128;

const arg = (k: string, d?: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const raw = (img: RGBAImage) => sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } });

async function main() {
  const directions = (arg('--direction', 'male2female') as string).split(',');
  const cropsDir = arg('--crops');
  const galleryFile = arg('--gallery');
  const photoDetail = arg('--photo-detail') !== undefined ? Number(arg('--photo-detail')) : undefined;
  const GALLERY = ['ccby_chris_pratt.jpeg-1', 'wh_obama_official_2012.jpg-1', 'wh_biden_obama_greenroom.jpg-2', 'cc0_codait_luciano.png-1'];
  const galleryRows: Buffer[] = [];
  const engine = await createNodeEngine({ threads: 1 });
  const photos = fs.readdirSync(path.join(SHARED, 'photos')).filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.startsWith('neg_')).sort();
  const rows: { photo: string; face: number; size: number; direction: string; replace: number; detail: number }[] = [];
  if (cropsDir) fs.mkdirSync(cropsDir, { recursive: true });
  for (const f of photos) {
    const { image } = await decodePhoto(path.join(SHARED, 'photos', f));
    const src = new MemoryPhotoSource(image);
    const faces = (await engine.detect(src)).filter((x) => faceSize(x) >= MIN_FACE);
    for (const direction of directions) {
      for (let k = 0; k < faces.length; k++) {
        const out: Record<string, RGBAImage> = {};
        for (const paste of ['replace', 'detail'] as const) {
          const r = await engine.run(src, { direction, paste, ...(photoDetail !== undefined ? { photoDetail } : {}) }, [faces[k]]);
          const layer = facesToLayer(r.faces.map((x) => x.patch));
          out[paste] = layer ? compositeLayer(image, layer) : image;
        }
        const box = faces[k].box;
        const row = { photo: f, face: k + 1, size: Math.round(faceSize(faces[k])), direction,
          replace: +detailKept(image, out.replace, box).toFixed(3), detail: +detailKept(image, out.detail, box).toFixed(3) };
        rows.push(row);
        console.log(JSON.stringify(row));
        if (galleryFile && GALLERY.includes(`${f}-${k + 1}`) && direction === directions[0]) {
          // 100 % crop of the face box: photo | old | new, 10 px apart
          const c = { left: Math.max(0, Math.round(box.x)), top: Math.max(0, Math.round(box.y - box.height * 0.1)), width: Math.round(box.width), height: Math.round(box.height * 1.15) };
          c.width = Math.min(image.width - c.left, c.width); c.height = Math.min(image.height - c.top, c.height);
          const tiles = await Promise.all([image, out.replace, out.detail].map((im) => raw(im).extract(c).png().toBuffer()));
          galleryRows.push(await sharp({ create: { width: c.width * 3 + 20, height: c.height, channels: 3, background: '#ffffff' } })
            .composite(tiles.map((t, i) => ({ input: t, left: i * (c.width + 10), top: 0 }))).png().toBuffer());
        }
        if (cropsDir) {
          const pad = 0.35;
          const c = { left: Math.max(0, Math.round(box.x - box.width * pad)), top: Math.max(0, Math.round(box.y - box.height * pad)) } as { left: number; top: number; width: number; height: number };
          c.width = Math.min(image.width - c.left, Math.round(box.width * (1 + 2 * pad)));
          c.height = Math.min(image.height - c.top, Math.round(box.height * (1 + 2 * pad)));
          const tiles = await Promise.all([image, out.replace, out.detail].map((im) => raw(im).extract(c).png().toBuffer()));
          await sharp({ create: { width: c.width * 3 + 20, height: c.height, channels: 3, background: '#ffffff' } })
            .composite(tiles.map((t, i) => ({ input: t, left: i * (c.width + 10), top: 0 }))).png()
            .toFile(path.join(cropsDir, `${path.parse(f).name}-${k + 1}-${direction}.png`));
        }
      }
    }
  }
  const med = (k: 'replace' | 'detail') => +quantile(rows.map((r) => r[k]), 0.5).toFixed(3);
  const summary = { measure: 'mean |Laplacian| of luma over the inner 60 % of the face box, output / photo', minFace: MIN_FACE,
    faces: rows.length, directions, photoDetail: photoDetail ?? Object.fromEntries(directions.map((d) => [d, engine.manifest.models.find((m): m is TransformModel => m.task === 'transform' && m.direction === d)?.photoDetail ?? 1])), median: { replace: med('replace'), detail: med('detail') }, rows };
  console.log(`faces ${rows.length}: median detail kept, old paste-back ${summary.median.replace}, new ${summary.median.detail}`);
  if (galleryFile && galleryRows.length) {
    const metas = await Promise.all(galleryRows.map((b) => sharp(b).metadata()));
    const W = Math.max(...metas.map((m) => m.width!)), H = metas.reduce((s, m) => s + m.height! + 10, 0);
    let top = 0;
    const parts = galleryRows.map((b, i) => { const p = { input: b, left: 0, top }; top += metas[i].height! + 10; return p; });
    await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).composite(parts).png().toFile(galleryFile);
    console.log(`wrote ${galleryFile}`);
  }
  if (process.argv.includes('--write')) fs.writeFileSync(path.join(ROOT, 'docs', 'detail.json'), JSON.stringify(summary, null, 2) + '\n');
  await engine.dispose();
}
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
