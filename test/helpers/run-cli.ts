/** The command line as its own process (signals, HOME, exit codes): `tsx test/helpers/run-cli.ts <args>`. */
import { carryOnWhenPipesClose, main } from '../../src/cli/main';

carryOnWhenPipesClose();

main(process.argv).then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`faceshift: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
