import { main } from './main.js';

const code = await main(process.argv);
process.exitCode = code;
// Everything the command owns is closed by now. After a broker outage kafkajs can keep a socket of a connection it
// abandoned, which would keep a drained worker alive forever; give stragglers a second, then exit regardless.
setTimeout(() => process.exit(code), 1_000).unref();
