// A service outside the workspace, run by plain `node` (no tsx, no source condition): it imports the built
// packages as a user's project would and prints one JSON object. Each check is one entry of `checks`, so a
// later one (an engine) is one more function.
// usage: node service.mjs MODEL_DIR TOKENS(comma-separated)
import { createEngine, loadModel, referencePrefill, residentModel } from '@asap/actors';
import { DRIVER, createBackend, startThreadsHost } from '@asap/runtime';
import { firstValueFrom } from 'rxjs';

const [modelDir, tokenList] = process.argv.slice(2);
const tokens = tokenList.split(',').map(Number);

const checks = {
  /** The reference forward on each backend: first token and last logits. */
  async reference() {
    const out = {};
    for (const name of ['js', 'wasm']) {
      const backend = await createBackend(name);
      try {
        const model = residentModel((await loadModel(modelDir)).model, backend);
        const result = referencePrefill(backend, model, tokens);
        out[name] = { firstToken: result.firstToken, logits: Array.from(result.logits) };
        result.kv.release();
      } finally {
        backend.dispose();
      }
    }
    return out;
  },

  /** A worker thread running a plain-JavaScript actor module from the built runtime. */
  async threads() {
    const module = new URL('./echo-actor.mjs', import.meta.url);
    const start = performance.now();
    const host = await startThreadsHost({ actors: [{ id: 'echo', module }] });
    const startMs = performance.now() - start;
    try {
      const reply = firstValueFrom(host.inboxFrom('echo'));
      await host.send('echo', { kind: 'ping', meta: 42 });
      return { startMs, reply: (await reply).meta };
    } finally {
      await host.shutdown();
    }
  },

  /** Each engine through the public API, its ranks in worker threads running the built rank modules. */
  async engines() {
    const out = {};
    const variants = {
      sync: { engine: 'sync', ranks: 2, sync: { tokenBudget: 4 } },
      asap: { engine: 'asap', attentionRanks: 1, expertRanks: 2 },
    };
    for (const [name, options] of Object.entries(variants)) {
      const engine = await createEngine({ model: modelDir, host: 'threads', backend: 'wasm', ...options });
      try {
        const result = await engine.prefill({ tokens, logits: true });
        out[name] = { firstToken: result.firstToken, logits: Array.from(result.logits) };
      } finally {
        await engine.close();
      }
    }
    return out;
  },

  /** A TypeScript actor module where no tsx can be found: a clear error, not a hang. */
  async typescriptActorWithoutTsx() {
    const module = new URL('./echo-actor.ts', import.meta.url);
    try {
      await (await startThreadsHost({ actors: [{ id: 'ts', module }] })).shutdown();
      return 'started';
    } catch (error) {
      return error.message;
    }
  },
};

const results = {};
for (const [name, check] of Object.entries(checks)) results[name] = await check();
results.driver = DRIVER;
process.stdout.write(`${JSON.stringify(results)}\n`);
