import { main } from './main.js';

const code = await main(process.argv);
process.exitCode = code;
// Everything the command owns is closed by now. After a broker outage kafkajs can keep a socket that no disconnect
// reaches: after a closed connection it drops that broker from its pool without disconnecting it, yet still sends
// through it (a consumer's heartbeats to its coordinator, a client's seed broker), and its disconnect walks only the
// pool. That would keep a drained worker alive forever; give stragglers a second, then exit regardless.
setTimeout(() => process.exit(code), 1_000).unref();
