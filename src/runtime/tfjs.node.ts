/** Node glue for tfjs: where tfjs-backend-wasm's .wasm files lie in node_modules. */
import * as path from 'path';

export function nodeTfjsWasmDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}
