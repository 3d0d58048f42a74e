// Worker entry for the channel tests: `new Worker('x.ts')` fails under tsx, so register tsx and load the .ts.
require('tsx/cjs');
require('./channel-worker.ts');
