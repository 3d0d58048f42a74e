// Pool worker of the sweeps: a worker cannot start from a .ts file and the parent's tsx hooks do not reach
// it, so this plain module registers tsx in the worker's own thread, then loads the TypeScript task.
import { register } from 'tsx/esm/api';

register();
const { default: task } = await import('./point-worker.ts');
export default task;
