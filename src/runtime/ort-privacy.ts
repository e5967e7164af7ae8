/**
 * onnxruntime's native library records telemetry events and a device id under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime unless ORT_DISABLE_TELEMETRY is set when its
 * environment is created (the variable is read by libonnxruntime; onnxruntime-node has no
 * JavaScript switch for it). FaceShift promises that nothing leaves the machine and that a run
 * writes only its outputs, so it is always set, before onnxruntime-node is first imported.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';
export {};
