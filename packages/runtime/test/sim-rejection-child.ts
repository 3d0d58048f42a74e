// Run as a child process by host-faults.test.ts (the test runner listens for unhandled rejections itself):
// an unawaited send that fails inside actor code crashes that actor, not the process; a rejection that is
// no actor's still ends the process, as Node does by default.
import { firstValueFrom } from 'rxjs';
import { startSimHost } from '../src/index.ts';

const kind = process.argv[2];
const host = await startSimHost({ actors: [{ id: 'r', module: new URL('./actors/rejecter.ts', import.meta.url) }, { id: 'e', module: new URL('./actors/echo.ts', import.meta.url) }] });
if (kind === 'unrelated') {
  void Promise.reject(new Error('not an actor rejection'));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  console.log('still running');
}
const crashed = firstValueFrom(host.crashes$);
await host.send('r', { kind });
const error = await crashed;
const pong = firstValueFrom(host.inboxFrom('e'));
await host.send('e', { kind: 'ping' });
console.log(JSON.stringify({ name: error.name, actor: error.actor, message: error.message, healthy: (await pong).kind }));
await host.shutdown();
