#!/usr/bin/env node
// Runs one ONNX model with onnxruntime-node on raw float32 inputs (for the training parity tests).
//   node scripts/ort-run.js model.onnx input.f32 N,C,H,W output.f32 [name=file.f32:d0,d1,... ...]
// The first input gets input.f32; further inputs are named. The first output goes to output.f32,
// every further output to output.f32.<name>.
const fs = require('fs');
process.env.ORT_DISABLE_TELEMETRY = '1'; // no telemetry files (see src/runtime/ort-privacy.ts)
const ort = require('onnxruntime-node');
const read = (file) => { const b = fs.readFileSync(file); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
(async () => {
  const [model, input, shape, output, ...extra] = process.argv.slice(2);
  if (!output) { console.error('usage: ort-run.js model.onnx input.f32 N,C,H,W output.f32 [name=file.f32:dims ...]'); process.exit(2); }
  const session = await ort.InferenceSession.create(model);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', read(input), shape.split(',').map(Number)) };
  for (const e of extra) {
    const [name, rest] = e.split('=');
    const [file, dims] = rest.split(':');
    feeds[name] = new ort.Tensor('float32', read(file), dims.split(',').map(Number));
  }
  const res = await session.run(feeds);
  const dims = {};
  session.outputNames.forEach((name, i) => {
    const out = res[name];
    fs.writeFileSync(i === 0 ? output : `${output}.${name}`, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
    dims[name] = out.dims;
  });
  console.log(JSON.stringify({ dims }));
})().catch((e) => { console.error(e); process.exit(1); });
