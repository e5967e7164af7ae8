/**
 * The Photoshop plugin's icons (assets/icons/, copied into the plugin by webpack): a face whose
 * right half is shaded, drawn as SVG and rendered with sharp. Panel icons are 23x23 with @2x
 * (46x46) as UXP asks for panels; plugin icons (Plugins panel, Creative Cloud) are 48x48 with @2x.
 * One set for dark themes (light glyph), one for light themes (dark glyph).
 *   npx tsx scripts/make-icons.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';

const OUT = path.resolve(__dirname, '..', 'assets', 'icons');

function glyph(colour: string): string {
  // 24-unit design grid; scaled by the SVG viewBox
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
  <defs><clipPath id="r"><rect x="12" y="0" width="12" height="24"/></clipPath></defs>
  <ellipse cx="12" cy="12.5" rx="8" ry="9.5" fill="none" stroke="${colour}" stroke-width="1.6"/>
  <ellipse cx="12" cy="12.5" rx="8" ry="9.5" fill="${colour}" fill-opacity="0.45" clip-path="url(#r)"/>
  <circle cx="9" cy="10.5" r="1.2" fill="${colour}"/>
  <circle cx="15" cy="10.5" r="1.2" fill="${colour}"/>
  <path d="M8.6 15.6 Q12 18.4 15.4 15.6" fill="none" stroke="${colour}" stroke-width="1.4" stroke-linecap="round"/>
</svg>`;
}

const THEMES = { dark: '#D8D8D8', light: '#4B4B4B' } as const;
const SIZES = { panel: 23, plugin: 48 } as const;

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  for (const [theme, colour] of Object.entries(THEMES)) {
    for (const [kind, size] of Object.entries(SIZES)) {
      for (const scale of [1, 2]) {
        const file = path.join(OUT, `${kind}-${theme}${scale === 2 ? '@2x' : ''}.png`);
        await sharp(Buffer.from(glyph(colour)), { density: 72 * (size * scale) / 24 })
          .resize(size * scale, size * scale).png({ compressionLevel: 9 }).toFile(file);
        console.log(path.relative(process.cwd(), file));
      }
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
