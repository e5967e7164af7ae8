#!/usr/bin/env node
// Runs one ONNX model with onnxruntime-node on a raw float32 input (for the training parity test).
//   node scripts/ort-run.js model.onnx input.f32 N,C,H,W output.f32
const fs = require('fs');
process.env.ORT_DISABLE_TELEMETRY = '1'; // no telemetry files (see src/runtime/ort-privacy.ts)
const ort = require('onnxruntime-node');
(async () => {
  const [model, input, shape, output] = process.argv.slice(2);
  if (!output) { console.error('usage: ort-run.js model.onnx input.f32 N,C,H,W output.f32'); process.exit(2); }
  const dims = shape.split(',').map(Number);
  const buf = fs.readFileSync(input);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(model);
  const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
  const out = res[session.outputNames[0]];
  fs.writeFileSync(output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(JSON.stringify({ dims: out.dims }));
})().catch((e) => { console.error(e); process.exit(1); });
