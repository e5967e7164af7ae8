#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm run build).
const path = require('path');
const fs = require('fs');
const built = path.join(__dirname, '..', 'build', 'cli', 'main.js');
if (!fs.existsSync(built)) {
  process.stderr.write('faceshift: not built yet. Run `npm run build` first.\n');
  process.exit(2);
}
const cli = require(built);
cli.carryOnWhenPipesClose();
cli.main(process.argv).then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`faceshift: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
