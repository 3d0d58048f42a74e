// Worker threads cannot start from a .ts file, and the parent's tsx hooks do not reach a worker: this plain
// module registers tsx in the worker's own thread, then imports the TypeScript entry named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
