// Worker entry of `asap bench channels`: `new Worker('x.ts')` fails under tsx, so register tsx, then load the .ts.
require('tsx/cjs');
require('./channels-worker.ts');
