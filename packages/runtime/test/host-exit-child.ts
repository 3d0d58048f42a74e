// Run as a child process by host-faults.test.ts: uses a threads host and returns without shutdown(), with
// messages still in flight. The process must exit on its own once the driver is done with the host.
import { firstValueFrom } from 'rxjs';
import { startThreadsHost } from '../src/index.ts';

const host = await startThreadsHost({ actors: [{ id: 'e', module: new URL('./actors/echo.ts', import.meta.url) }, { id: 'b', module: new URL('./actors/bounded.ts', import.meta.url), maxInFlight: 1 }] });
// A driver that awaits a reply or a stats call is kept alive until it arrives.
const pong = firstValueFrom(host.inboxFrom('e'));
await host.send('e', { kind: 'ping' });
console.log((await pong).kind, (await host.stats('e')).messagesIn);
// Then messages in flight that nobody waits for, and an actor holding one forever.
for (let i = 0; i < 5; i++) void host.send('e', { kind: 'ping' });
void host.send('b', { kind: 'hold', meta: 0 });
console.log('done without shutdown');
