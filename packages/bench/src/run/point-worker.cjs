// Pool worker of the sweeps: `new Worker('x.ts')` fails under tsx, so register tsx, then load the .ts.
require('tsx/cjs');
module.exports = require('./point-worker.ts');
